import { Logger } from '@nestjs/common';
import { createAppLogger } from './app-logger';

function capture() {
  const lines: string[] = [];
  const destination = { write: (chunk: string) => void lines.push(...chunk.split('\n').filter(Boolean)) };
  const logger = createAppLogger({ nodeEnv: 'production', level: 'info', destination });
  return { logger, entries: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

describe('the apps logger', () => {
  it("writes Nest's calls as one shape: label level, ISO time, string msg, context, fields at the top", () => {
    const { logger, entries } = capture();
    logger.log('listening', 'Server');
    logger.warn({ msg: 'shutdown_started', signal: 'SIGTERM' }, 'Server');
    logger.error({ event: 'no_msg' }, 'Saga');
    logger.error(new Error('boom'), 'Filter');
    logger.error('Request failed', 'Error: boom\n    at somewhere (file.ts:1:1)', 'ExceptionsHandler');
    logger.debug?.('hidden below info');
    const lines = entries();
    expect(lines).toHaveLength(5);
    for (const line of lines) {
      expect(typeof line.msg).toBe('string');
      expect(['info', 'warn', 'error']).toContain(line.level);
      expect(line.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    }
    expect(lines[0]).toMatchObject({ level: 'info', msg: 'listening', context: 'Server' });
    expect(lines[1]).toMatchObject({ level: 'warn', msg: 'shutdown_started', signal: 'SIGTERM', context: 'Server' });
    expect(lines[2]).toMatchObject({ level: 'error', msg: '', event: 'no_msg', context: 'Saga' });
    expect(lines[3]).toMatchObject({ level: 'error', msg: 'boom', context: 'Filter', err: { message: 'boom', stack: expect.stringContaining('Error: boom') } });
    expect(lines[4]).toMatchObject({ level: 'error', msg: 'Request failed', err: { stack: expect.stringContaining('at somewhere') } });
  });

  it("is where Nest's static Logger writes once it is the override", () => {
    const { logger, entries } = capture();
    Logger.overrideLogger(logger);
    try {
      new Logger('SessionCache').log({ msg: 'session_cache_reconciled', cause: 'startup' });
    } finally {
      Logger.overrideLogger(false);
    }
    expect(entries()).toEqual([expect.objectContaining({ level: 'info', msg: 'session_cache_reconciled', cause: 'startup', context: 'SessionCache' })]);
  });

  it('never writes authorization, cookies, passwords or tokens', () => {
    const { logger, entries } = capture();
    logger.log({
      msg: 'x',
      password: 'p1',
      headers: { authorization: 'Bearer a', cookie: 'c', 'set-cookie': 's' },
      body: { refreshToken: 'r', accessToken: 'a', token: 't', newPassword: 'n' },
    });
    const text = JSON.stringify(entries());
    for (const secret of ['p1', 'Bearer a', '"c"', '"s"', '"r"', '"a"', '"t"', '"n"']) expect(text).not.toContain(secret);
    expect(entries()[0]).toMatchObject({
      password: '[Redacted]',
      headers: { authorization: '[Redacted]', cookie: '[Redacted]', 'set-cookie': '[Redacted]' },
      body: { refreshToken: '[Redacted]' },
    });
  });
});
