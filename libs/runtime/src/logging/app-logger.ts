import type { LoggerService } from '@nestjs/common';
import { Logger as NestPinoLogger, PinoLogger } from 'nestjs-pino';
import { AsyncLocalStorage } from 'node:async_hooks';
import { type DestinationStream, type Logger as Pino, pino } from 'pino';
import type { NodeEnv } from '../config/environment';
import type { LogLevel } from './log-level';

/**
 * Never written, wherever they turn up in a logged object (pino's redact paths: the key at the top
 * or one level down). Request lines carry no headers or bodies at all (see request-logging.ts);
 * this is for everything else that logs an object.
 */
export const REDACTED_KEYS = [
  'authorization',
  'cookie',
  'set-cookie',
  'password',
  'currentPassword',
  'newPassword',
  'token',
  'refreshToken',
  'accessToken',
  'resetToken',
  'accessTokenSecret',
] as const;
const REDACT_PATHS = REDACTED_KEYS.flatMap((key) =>
  /^[A-Za-z_]\w*$/.test(key) ? [key, `*.${key}`, `*.headers.${key}`] : [`["${key}"]`, `*["${key}"]`, `*.headers["${key}"]`],
);
export const REDACTED = '[Redacted]';

/**
 * The apps' logger: one pino instance per process (both apps, the runtime, migrations, start-up
 * and shutdown write through it), and the Nest LoggerService over it (nestjs-pino's, which maps
 * Nest's calls: `log` to info, `verbose` to trace, the context argument to a `context` field, an
 * error's stack to `err`).
 */
export interface AppLogger extends LoggerService {
  readonly pino: Pino;
  /**
   * The request lines' logger: the same destination, level and line shape, without redaction.
   * A request line holds only the fields request-logging.ts builds (no header, cookie or body; the
   * URL's secret-looking query values already replaced), and pino's redaction of the paths above
   * was the largest single cost of a request (a CPU profile of GET /auth/me: 15%).
   */
  readonly requests: Pino;
}

export interface AppLoggerOptions {
  readonly nodeEnv: NodeEnv;
  readonly level: LogLevel;
  /** Where the lines go; stdout when absent (tests pass a stream of their own). */
  readonly destination?: DestinationStream;
}

/** The id of the request being handled, set by the request middleware. */
export const requestIds = new AsyncLocalStorage<string>();

/**
 * nestjs-pino's PinoLogger takes the request's logger from the context its LoggerModule binds, and
 * otherwise one logger for the whole process, whichever was made first. This one is bound to its
 * own root, so two runtimes in one process (tests) each log to their own destination, and takes
 * the request's logger from the request middleware (mounted before the body parser, unlike the
 * module's, so a request refused while its body is read is logged too).
 */
class RootBoundPinoLogger extends PinoLogger {
  constructor(private readonly root: Pino) {
    super({ pinoHttp: { logger: root } });
  }

  /**
   * Within a request, a child carrying its requestId, made only when something logs (most requests
   * log nothing but their line): a child per request cost as much as the line itself.
   */
  override get logger(): Pino {
    const requestId = requestIds.getStore();
    return requestId === undefined ? this.root : this.root.child({ requestId });
  }
}

let processLogger: AppLogger | undefined;

export function createAppLogger(options: AppLoggerOptions): AppLogger {
  const shape = {
    level: options.level,
    // A label ("info", "warn"), not pino's number: what Elasticsearch, Loki and people read.
    formatters: { level: (label: string) => ({ level: label }) },
    timestamp: pino.stdTimeFunctions.isoTime,
    // `msg` is always a string, so it has one type in every index.
    hooks: { logMethod: withStringMessage },
  };
  const destination = options.destination ?? standardOutput(options.nodeEnv);
  const root = pino({ ...shape, redact: { paths: REDACT_PATHS, censor: REDACTED } }, destination);
  const requests = pino(shape, destination);
  const nest = new NestPinoLogger(new RootBoundPinoLogger(root), {}) as unknown as LoggerService;
  const logger: AppLogger = Object.assign(nest, { pino: root, requests });
  processLogger = logger;
  return logger;
}

/**
 * The logger made last in this process, for a line written before or after the apps (a start-up
 * failure); before any was made (the environment itself is refused), a production one.
 */
export function currentProcessLogger(): AppLogger {
  return processLogger ?? createAppLogger({ nodeEnv: 'production', level: 'info' });
}

/**
 * Production and test: JSON lines, written synchronously (a line logged just before an exit is
 * not lost). Development: pino-pretty's readable lines when it is installed (a devDependency, so
 * absent from a production install), JSON lines otherwise.
 */
function standardOutput(nodeEnv: NodeEnv): DestinationStream {
  if (nodeEnv === 'development') {
    const pretty = loadPretty();
    if (pretty) return pretty({ sync: true, colorize: process.stdout.isTTY === true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' });
  }
  return pino.destination({ dest: 1, sync: true });
}

type PrettyFactory = (options: Record<string, unknown>) => DestinationStream;

function loadPretty(): PrettyFactory | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a development-only package, loaded synchronously if it is installed
    return require('pino-pretty') as PrettyFactory;
  } catch {
    return undefined;
  }
}

/**
 * pino's logMethod hook: a call without a message string gets one, from the object's `msg`, an
 * error's message or nothing, so `msg` is never absent, a number or an object.
 */
function withStringMessage(this: Pino, args: unknown[], method: (...args: unknown[]) => void): void {
  const [first, second] = args;
  if (typeof first === 'string' || typeof second === 'string') {
    method.apply(this, args);
    return;
  }
  if (first instanceof Error) {
    method.apply(this, [{ err: first }, first.message, ...args.slice(2)]);
    return;
  }
  if (typeof first !== 'object' || first === null) {
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- objects went above: `first` is a primitive or a function here
    method.apply(this, [{ value: first }, first === undefined ? '' : String(first), ...args.slice(2)]);
    return;
  }
  const { msg, ...rest } = first as Record<string, unknown>;
  const err = rest.err;
  const message = typeof msg === 'string' ? msg : err instanceof Error ? err.message : typeof rest.message === 'string' ? rest.message : '';
  const fields = msg === undefined || typeof msg === 'string' ? rest : { ...rest, msgValue: msg };
  method.apply(this, [fields, message, ...args.slice(2)]);
}
