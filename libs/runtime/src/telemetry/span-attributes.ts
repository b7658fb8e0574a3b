/** The attributes this service adds to the spans the instrumentations make. */

/** The audited command (its audit action, e.g. `user.login`), set on the span active when it starts. */
export const ATTR_COMMAND_NAME = 'app.command.name';
/** Shared by a command's Attempted event and its outcome in the audit trail. */
export const ATTR_CORRELATION_ID = 'app.command.correlation_id';
/** `succeeded` or `failed`, once the command has an outcome. */
export const ATTR_COMMAND_OUTCOME = 'app.command.outcome';
/** The request's X-Request-Id: the one the service answered with, else the one the request carried. */
export const ATTR_REQUEST_ID = 'app.request_id';
/** Span event recorded for each command, so a request that runs several keeps them all. */
export const COMMAND_EVENT = 'app.command';

const MAX_REQUEST_ID_LENGTH = 128;

/**
 * The request id of an answered request, fit for an attribute: the X-Request-Id the service
 * answered with (the one its logs carry), else the one the request brought; trimmed, shortened,
 * and none when empty.
 */
export function requestIdOf(
  request: { readonly headers: Readonly<Record<string, string | string[] | undefined>> },
  response: { getHeader(name: string): number | string | string[] | undefined },
): string | undefined {
  for (const value of [response.getHeader('x-request-id'), request.headers['x-request-id']]) {
    const first = Array.isArray(value) ? value[0] : value;
    const trimmed = typeof first === 'string' ? first.trim() : '';
    if (trimmed !== '') return trimmed.slice(0, MAX_REQUEST_ID_LENGTH);
  }
  return undefined;
}

/**
 * The command and how many arguments it had, never the arguments: keys name users and sessions,
 * values are session state, and EVAL would carry whole scripts.
 */
export function redisStatement(command: string, args: ReadonlyArray<string | Buffer>): string {
  return args.length === 0 ? command : `${command} [${args.length} argument${args.length === 1 ? '' : 's'}]`;
}
