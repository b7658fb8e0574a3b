import { assertHashTagFreePrefix } from './key-prefix';
import { callRedis, RedisUnavailableError, withTimeout } from './redis-call';
import { isRedisClient } from './redis-client';

class CacheDown extends RedisUnavailableError {
  override readonly name: string = 'CacheDown';
}

describe('callRedis', () => {
  it('refuses at once, without sending, while the client is not ready', async () => {
    const command = jest.fn(async () => 'PONG');
    await expect(callRedis({ isReady: false }, 1_000, 'PING', command)).rejects.toThrow(new RedisUnavailableError('Redis is not connected (PING)'));
    expect(command).not.toHaveBeenCalled();
  });

  it('gives up after the timeout with the error class the caller asked for', async () => {
    const never = new Promise<string>(() => undefined);
    const error = await callRedis({ isReady: true }, 20, 'GET', () => never, CacheDown).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CacheDown);
    expect(error).toBeInstanceOf(RedisUnavailableError);
    expect((error as Error).message).toBe('Redis did not answer GET within 20 ms');
  });

  it('passes the reply and a reply error through unchanged', async () => {
    await expect(callRedis({ isReady: true }, 1_000, 'GET', async () => 'a')).resolves.toBe('a');
    const replyError = new Error('WRONGTYPE Operation against a key holding the wrong kind of value');
    await expect(callRedis({ isReady: true }, 1_000, 'GET', () => Promise.reject(replyError))).rejects.toBe(replyError);
  });
});

describe('withTimeout', () => {
  it('leaves no timer behind once the promise settled', async () => {
    jest.useFakeTimers();
    try {
      await expect(withTimeout(Promise.resolve(1), 60_000, () => new Error('late'))).resolves.toBe(1);
      expect(jest.getTimerCount()).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('assertHashTagFreePrefix', () => {
  it.each(['a{b', 'a}b', '{', 'x:{user}:'])('refuses %p', (prefix) => {
    expect(() => assertHashTagFreePrefix(prefix, 'rate limit')).toThrow('The rate limit key prefix must not contain "{" or "}" (Redis Cluster hash tags)');
  });

  it('accepts a prefix without braces', () => {
    expect(() => assertHashTagFreePrefix('app:prod:', 'session cache')).not.toThrow();
  });
});

describe('isRedisClient', () => {
  it('refuses a client without the commands the adapters send (a cluster client has no isReady)', () => {
    const commands = Object.fromEntries(
      ['get', 'set', 'multi', 'del', 'ping', 'incr', 'info', 'eval', 'evalSha', 'pTTL', 'on'].map((name) => [name, () => undefined]),
    );
    expect(isRedisClient({ ...commands, isReady: true })).toBe(true);
    expect(isRedisClient(commands)).toBe(false);
    expect(isRedisClient({ ...commands, isReady: true, evalSha: undefined })).toBe(false);
    expect(isRedisClient(null)).toBe(false);
  });
});
