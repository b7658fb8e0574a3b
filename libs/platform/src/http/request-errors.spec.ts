import { HttpException } from '@nestjs/common';
import { errorCodes } from 'fastify';
import { requestProblem } from './request-errors';

describe('requestProblem', () => {
  it.each([
    [new errorCodes.FST_ERR_CTP_INVALID_JSON_BODY(), 400, 'Malformed JSON body'],
    [new errorCodes.FST_ERR_CTP_EMPTY_JSON_BODY(), 400, 'Malformed JSON body'],
    [new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE(), 415, 'The request body must be JSON, sent with Content-Type: application/json'],
    [new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH(), 400, 'Request body size did not match Content-Length'],
    [new errorCodes.FST_ERR_BAD_URL('/items/%E0%A4%A'), 400, 'Malformed percent-encoding in the URL'],
    [new errorCodes.FST_ERR_MAX_PARAM_LENGTH('/items/' + 'x'.repeat(200)), 414, 'A segment of the request path is too long'],
  ])('answers %s with a fixed text that quotes nothing of the request', (error, status, detail) => {
    const problem = requestProblem(error);
    expect(problem).toMatchObject({ status, detail });
    expect(JSON.stringify(problem)).not.toContain('%E0');
  });

  it('states the size limit of a body that is too large, when it is known', () => {
    expect(requestProblem(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE(), { bodyLimitBytes: 16_384 })?.detail).toBe('Request body is larger than 16384 bytes');
    expect(requestProblem(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE())?.detail).toBe('Request body is too large');
  });

  it('leaves Fastify errors that mean a server bug to the generic 500', () => {
    expect(requestProblem(new errorCodes.FST_ERR_CTP_INVALID_PARSE_TYPE('xml'))).toBeUndefined();
    expect(requestProblem(Object.assign(new Error('x'), { code: 'FST_ERR_CTP_INVALID_JSON_BODY', statusCode: 500 }))).toBeUndefined();
  });

  it('leaves anything else to the other rules', () => {
    expect(requestProblem(new HttpException('Nope', 403))).toBeUndefined();
    expect(requestProblem(new Error('boom'))).toBeUndefined();
    expect(requestProblem(Object.assign(new Error('secret internals'), { status: 400, expose: true }))).toBeUndefined();
    expect(requestProblem(undefined)).toBeUndefined();
    expect(requestProblem('FST_ERR_BAD_URL')).toBeUndefined();
  });
});

describe('requestProblem, behind the HttpException Nest wraps a Fastify error in', () => {
  it('finds the Fastify error as the cause', () => {
    const cause = new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE();
    expect(requestProblem(new HttpException(cause.message, 413, { cause }), { bodyLimitBytes: 1024 })?.detail).toBe('Request body is larger than 1024 bytes');
  });
});
