import { QueryFailedError } from 'typeorm';
import { isDependencyUnavailable } from './dependency-errors';

const withCode = (code: string, message = 'driver error') => Object.assign(new Error(message), { code });

describe('isDependencyUnavailable', () => {
  it.each(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'EAI_AGAIN'])('recognises the network code %s', (code) => {
    expect(isDependencyUnavailable(withCode(code))).toBe(true);
  });

  it.each(['57P01', '57P02', '57P03', '08000', '08001', '08003', '08006', '53300', '57014'])('recognises the SQLSTATE %s', (code) => {
    expect(isDependencyUnavailable(withCode(code))).toBe(true);
  });

  it.each([
    'Connection terminated',
    'Connection terminated unexpectedly',
    'Connection terminated due to connection timeout',
    'timeout exceeded when trying to connect',
    'Query read timeout',
    'Client has encountered a connection error and is not queryable',
    'Cannot use a pool after calling end on the pool',
    'Socket closed unexpectedly',
    'The client is closed',
  ])('recognises the message "%s"', (message) => {
    expect(isDependencyUnavailable(new Error(message))).toBe(true);
  });

  it('recognises node-redis and *UnavailableError classes by name', () => {
    class SessionCacheUnavailableError extends Error {
      override readonly name = 'SessionCacheUnavailableError';
    }
    class ConnectionTimeoutError extends Error {
      override readonly name = 'ConnectionTimeoutError';
    }
    expect(isDependencyUnavailable(new SessionCacheUnavailableError('cache down'))).toBe(true);
    expect(isDependencyUnavailable(new ConnectionTimeoutError('Connection timeout'))).toBe(true);
  });

  it("looks inside TypeORM's QueryFailedError, a cause, and an AggregateError", () => {
    expect(isDependencyUnavailable(new QueryFailedError('SELECT 1', [], new Error('Connection terminated unexpectedly')))).toBe(true);
    expect(isDependencyUnavailable(new Error('wrapped', { cause: withCode('08006') }))).toBe(true);
    expect(isDependencyUnavailable(new AggregateError([withCode('ECONNREFUSED'), withCode('ECONNREFUSED')]))).toBe(true);
  });

  it.each([
    ['a constraint violation', new QueryFailedError('INSERT', [], withCode('23505', 'duplicate key value'))],
    ['a syntax error', withCode('42601')],
    ['a plain bug', new TypeError('x is undefined')],
    ['a message that only mentions connections', new Error('Connection to the user was terminated')],
    ['a non-error', 'ECONNREFUSED'],
    ['null', null],
  ])('does not mistake %s for an outage', (_label, error) => {
    expect(isDependencyUnavailable(error)).toBe(false);
  });

  it('stops on cyclic and very deep chains', () => {
    const cyclic: Error & { cause?: unknown } = new Error('outer');
    cyclic.cause = cyclic;
    expect(isDependencyUnavailable(cyclic)).toBe(false);

    let deep: Error = withCode('ECONNREFUSED');
    for (let level = 0; level < 10; level++) deep = new Error(`level ${level}`, { cause: deep });
    expect(isDependencyUnavailable(deep)).toBe(false);
  });
});
