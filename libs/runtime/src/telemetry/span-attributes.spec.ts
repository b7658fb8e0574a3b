import { redisStatement, requestIdOf } from './span-attributes';

describe('redisStatement', () => {
  it('keeps the command and the number of arguments, never a key or a value', () => {
    expect(redisStatement('GET', ['sessions:{user-1}:session:abc'])).toBe('GET [1 argument]');
    expect(redisStatement('SET', ['sessions:{user-1}:session:abc', '{"active":true}', 'PX', '60000'])).toBe('SET [4 arguments]');
    expect(redisStatement('PING', [])).toBe('PING');
  });
});

describe('requestIdOf', () => {
  const answered = (header: number | string | string[] | undefined) => ({ getHeader: (name: string) => (name === 'x-request-id' ? header : undefined) });

  it("prefers the id the service answered with, then the request's", () => {
    expect(requestIdOf({ headers: { 'x-request-id': 'from-client' } }, answered('from-service'))).toBe('from-service');
    expect(requestIdOf({ headers: { 'x-request-id': 'from-client' } }, answered(undefined))).toBe('from-client');
    expect(requestIdOf({ headers: { 'x-request-id': ['first', 'second'] } }, answered('  '))).toBe('first');
  });

  it('is none when neither has one, and never longer than 128 characters', () => {
    expect(requestIdOf({ headers: {} }, answered(undefined))).toBeUndefined();
    expect(requestIdOf({ headers: { 'x-request-id': '' } }, answered(42))).toBeUndefined();
    expect(requestIdOf({ headers: { 'x-request-id': ` ${'r'.repeat(300)} ` } }, answered(undefined))).toBe('r'.repeat(128));
  });
});
