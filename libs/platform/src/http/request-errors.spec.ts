import { BadRequestException, HttpException, PayloadTooLargeException } from '@nestjs/common';
import { requestProblem } from './request-errors';

/** The shape body-parser gives its errors (via http-errors). */
const parserError = (type: string, status: number, message: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(message), { type, status, statusCode: status, expose: status < 500, ...extra });

describe('requestProblem', () => {
  it.each([
    ['entity.parse.failed', 400, 'Malformed JSON body'],
    ['request.aborted', 400, 'Request body was aborted by the client'],
    ['request.size.invalid', 400, 'Request body size did not match Content-Length'],
    ['encoding.unsupported', 415, 'Unsupported Content-Encoding'],
    ['charset.unsupported', 415, 'Unsupported charset in Content-Type'],
    ['parameters.too.many', 413, 'Too many parameters in the request body'],
  ])('maps %s to %i with a fixed detail', (type, status, detail) => {
    const problem = requestProblem(parserError(type, status, 'internal parser text "quoted body"'));
    expect(problem).toEqual({ type: 'about:blank', title: expect.any(String), status, detail });
  });

  it('states the size limit of a body that is too large', () => {
    expect(requestProblem(parserError('entity.too.large', 413, 'request entity too large', { limit: 16_384 }))?.detail).toBe(
      'Request body is larger than 16384 bytes',
    );
  });

  it('finds the parser error behind the HttpException that Nest wraps it in', () => {
    const cause = parserError('entity.parse.failed', 400, 'Unexpected token } in JSON at position 9');
    expect(requestProblem(new BadRequestException(cause.message, { cause }))?.detail).toBe('Malformed JSON body');
    const tooLarge = parserError('entity.too.large', 413, 'request entity too large', { limit: 1024 });
    expect(requestProblem(new PayloadTooLargeException(tooLarge.message, { cause: tooLarge }))?.status).toBe(413);
  });

  it('shows the message of another exposed 4xx http-error, and only of those', () => {
    expect(requestProblem(Object.assign(new Error('Range Not Satisfiable'), { status: 416, expose: true }))).toMatchObject({
      status: 416,
      detail: 'Range Not Satisfiable',
    });
    expect(requestProblem(Object.assign(new Error('secret internals'), { status: 400, expose: false }))).toBeUndefined();
    expect(requestProblem(Object.assign(new Error('server fault'), { status: 500, expose: true }))).toBeUndefined();
  });

  it('leaves body-parser errors that mean a server bug to the generic 500', () => {
    expect(requestProblem(parserError('stream.not.readable', 500, 'stream is not readable'))).toBeUndefined();
  });

  it('ignores ordinary exceptions and errors', () => {
    expect(requestProblem(new HttpException('Nope', 403))).toBeUndefined();
    expect(requestProblem(new Error('boom'))).toBeUndefined();
    expect(requestProblem(undefined)).toBeUndefined();
  });
});
