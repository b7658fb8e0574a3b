import { withTimeout } from './redis-connection';

describe('withTimeout (the runtime Redis connections)', () => {
  it("passes the promise's value through when it settles in time", async () => {
    await expect(withTimeout(Promise.resolve('ready'), 1_000, () => new Error('late'))).resolves.toBe('ready');
  });

  it("passes the promise's own rejection through", async () => {
    await expect(withTimeout(Promise.reject(new Error('refused')), 1_000, () => new Error('late'))).rejects.toThrow('refused');
  });

  it('rejects with the given error when the promise does not settle within the bound', async () => {
    const started = Date.now();
    await expect(withTimeout(new Promise(() => undefined), 50, () => new Error('Redis did not answer within 50 ms'))).rejects.toThrow(
      'Redis did not answer within 50 ms',
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  });
});
