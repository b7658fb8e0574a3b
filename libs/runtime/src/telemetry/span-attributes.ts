/** The attributes this service adds to the spans the instrumentations make. */

/** The audited command (its audit action, e.g. `login`), set on the span active when it starts. */
export const ATTR_COMMAND_NAME = 'app.command.name';
/** Shared by a command's Attempted event and its outcome in the audit trail. */
export const ATTR_CORRELATION_ID = 'app.command.correlation_id';
/** `succeeded` or `failed`, once the command has an outcome. */
export const ATTR_COMMAND_OUTCOME = 'app.command.outcome';
/** The X-Request-Id of the request (sent by the client or a proxy, or answered by the service). */
export const ATTR_REQUEST_ID = 'app.request_id';
/** Span event recorded for each command, so a request that runs several keeps them all. */
export const COMMAND_EVENT = 'app.command';

const MAX_REQUEST_ID_LENGTH = 128;

/** A request id fit for an attribute: a non-empty string, shortened; anything else is none. */
export function requestIdOf(value: unknown): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  if (typeof first !== 'string') return undefined;
  const trimmed = first.trim();
  return trimmed === '' ? undefined : trimmed.slice(0, MAX_REQUEST_ID_LENGTH);
}

/**
 * The command and how many arguments it had, never the arguments: keys name users and sessions,
 * values are session state, and EVAL would carry whole scripts.
 */
export function redisStatement(command: string, args: ReadonlyArray<string | Buffer>): string {
  return args.length === 0 ? command : `${command} [${args.length} argument${args.length === 1 ? '' : 's'}]`;
}
