import { HttpException } from '@nestjs/common';
import { invalidRequest, isProblemDetails, problem, ProblemException } from './problem-details';

describe('problem', () => {
  it('defaults type to about:blank and title to the status text', () => {
    expect(problem(404, 'Session not found')).toEqual({ type: 'about:blank', title: 'Not Found', status: 404, detail: 'Session not found' });
  });

  it('takes a type, title, instance and extension members', () => {
    expect(
      problem(409, 'Email already registered', {
        type: 'https://example.com/problems/email-taken',
        title: 'Email taken',
        instance: '/users',
        email: 'a@example.com',
      }),
    ).toEqual({
      type: 'https://example.com/problems/email-taken',
      title: 'Email taken',
      status: 409,
      detail: 'Email already registered',
      instance: '/users',
      email: 'a@example.com',
    });
  });

  it('does not let an extension overwrite a standard member', () => {
    const extras = { status: 200, detail: 'fine' } as unknown as Record<string, unknown>;
    expect(problem(500, 'broken', extras)).toMatchObject({ status: 500, detail: 'broken' });
  });

  it('gives a status without a name a generic title', () => {
    expect(problem(499, 'x').title).toBe('Client Error');
    expect(problem(599, 'x').title).toBe('Server Error');
  });
});

describe('ProblemException', () => {
  it('is an HttpException carrying the problem, with the detail as its message', () => {
    const exception = new ProblemException(404, 'Session not found', { sessionId: 's1' });
    expect(exception).toBeInstanceOf(HttpException);
    expect(exception.getStatus()).toBe(404);
    expect(exception.message).toBe('Session not found');
    expect(exception.problem).toEqual({ type: 'about:blank', title: 'Not Found', status: 404, detail: 'Session not found', sessionId: 's1' });
    expect(isProblemDetails(exception.getResponse())).toBe(true);
  });

  it('keeps a cause for the logs', () => {
    const cause = new Error('inner');
    expect(new ProblemException(502, 'Upstream failed', {}, { cause }).cause).toBe(cause);
  });
});

describe('invalidRequest', () => {
  it('is a 400 listing the field errors', () => {
    const errors = [{ field: 'email', messages: ['email must be an email'] }];
    expect(invalidRequest('The request has 1 invalid field: email', errors).problem).toEqual({
      type: 'about:blank',
      title: 'Bad Request',
      status: 400,
      detail: 'The request has 1 invalid field: email',
      errors,
    });
  });
});

describe('isProblemDetails', () => {
  it("tells a problem from Nest's default body", () => {
    expect(isProblemDetails(problem(400, 'x'))).toBe(true);
    expect(isProblemDetails({ message: 'x', error: 'Bad Request', statusCode: 400 })).toBe(false);
    expect(isProblemDetails('x')).toBe(false);
  });
});
