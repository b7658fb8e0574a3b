import { Checks } from '../application/validation/command-input';
import { isRequestId, requestContext } from './request-context';

describe('request ids', () => {
  it.each(['0b6c1a4e-5d2f-4f7e-9a51-3c0d8e2b7f10', '01JD8Z3Q4W6Y9R2T5V7X0B1C3D', 'edge-1:42', 'a', 'A.b_c:d-e', 'x'.repeat(128)])('keeps %s', (id) => {
    expect(isRequestId(id)).toBe(true);
    expect(requestContext('10.0.0.1', 'curl', id).requestId).toBe(id);
  });

  it.each(['', ' ', 'x'.repeat(129), 'two words', 'a,b', 'line\nbreak', 'quote"', '<script>', 'é', 'id\u0000'])('records %j as none', (id) => {
    expect(isRequestId(id)).toBe(false);
    expect(requestContext('10.0.0.1', 'curl', id).requestId).toBeNull();
  });

  it('is none when the request had none', () => {
    expect(requestContext(null, null).requestId).toBeNull();
    expect(requestContext(null, null, undefined).requestId).toBeNull();
  });

  it('refuses a command whose context carries an invalid one, and accepts one without any', () => {
    const check = Checks.context();
    expect(check({ ipAddress: null, userAgent: null })).toBeNull();
    expect(check({ ipAddress: null, userAgent: null, requestId: null })).toBeNull();
    expect(check({ ipAddress: null, userAgent: null, requestId: 'req-1' })).toBeNull();
    expect(check({ ipAddress: null, userAgent: null, requestId: 'bad id' })).toMatch(/^requestId must be null or 1 to 128 characters/);
    expect(check({ ipAddress: null, userAgent: null, requestId: 42 })).toMatch(/^requestId/);
  });
});
