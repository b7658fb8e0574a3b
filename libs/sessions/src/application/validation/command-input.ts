import { ACTOR_TYPES, Actor, SERVICE_NAME_PATTERN } from '../../domain/actor';
import { isUuid } from '../../domain/identifiers';
import { isRequestId } from '../../domain/request-context';
import { InvalidCommandInput } from '../../domain/sessions-error';
import { hasLoneSurrogate } from '../../domain/unicode';

/** What is wrong with a field's value (for a developer: it never quotes the value), or null. */
export type FieldCheck = (value: unknown) => string | null;

/** The checks of a command's fields, by field name. */
export type InputRules<C> = { readonly [K in keyof C]?: FieldCheck };

/** Lengths as PostgreSQL's varchar counts them: code points. */
const lengthOf = (text: string) => [...text].length;

/** A string of `min` to `max` characters; well-formed unless `wellFormed` is false. */
function text(min: number, max: number, { wellFormed = true } = {}): FieldCheck {
  return (value) => {
    if (typeof value !== 'string') return 'must be a string';
    if (wellFormed && hasLoneSurrogate(value)) return 'must be well-formed Unicode (it contains a lone surrogate)';
    const length = lengthOf(value);
    if (length < min || length > max) return min === max ? `must be ${min} characters` : `must be ${min} to ${max} characters`;
    return null;
  };
}

const nullable =
  (check: FieldCheck): FieldCheck =>
  (value) =>
    value === null ? null : check(value);

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function hasIllFormedString(value: unknown): boolean {
  if (typeof value === 'string') return hasLoneSurrogate(value);
  if (typeof value !== 'object' || value === null) return false;
  return Object.entries(value).some(([key, inner]) => hasLoneSurrogate(key) || hasIllFormedString(inner));
}

/** The checks the commands' fields share. */
export const Checks = {
  uuid: (): FieldCheck => (value) => (isUuid(value) ? null : 'must be a UUID'),
  nullableUuid: (): FieldCheck => nullable(Checks.uuid()),
  text,
  /** A reason as the revocation and audit columns hold it (varchar(200)). */
  reason: (): FieldCheck => text(1, 200),
  /**
   * A password or an email as typed: a bounded string, so hashing or normalizing it stays cheap.
   * Its content is the policy's business (a typed outcome such as weak_password or invalid_email).
   */
  bounded:
    (max = 1024): FieldCheck =>
    (value) =>
      typeof value !== 'string' ? 'must be a string' : value.length > max ? `must be at most ${max} characters` : null,
  pattern:
    (pattern: RegExp, what: string): FieldCheck =>
    (value) =>
      typeof value === 'string' && pattern.test(value) ? null : `must be ${what}`,
  oneOf:
    <T>(values: readonly T[]): FieldCheck =>
    (value) =>
      values.includes(value as T) ? null : `must be one of ${values.join(', ')}`,
  actor: (): FieldCheck => (value) => actorProblem(value),
  /**
   * A RequestContext as the audit columns hold it: ip_address varchar(64), user_agent
   * varchar(512), request_id varchar(128) of REQUEST_ID_PATTERN. Otherwise only lengths: requestContext() cuts a long User-Agent where it must, even
   * inside a surrogate pair.
   */
  context: (): FieldCheck => (value) => {
    if (!isObject(value)) return 'must be a RequestContext (see requestContext())';
    if (nullable(text(1, 64, { wellFormed: false }))(value.ipAddress)) return 'ipAddress must be null or 1 to 64 characters';
    if (nullable(text(1, 512, { wellFormed: false }))(value.userAgent)) return 'userAgent must be null or 1 to 512 characters';
    if (value.requestId !== undefined && value.requestId !== null && !isRequestId(value.requestId))
      return 'requestId must be null or 1 to 128 characters of A-Z, a-z, 0-9, ".", "_", ":" and "-"';
    return null;
  },
  /** Extra audit facts: an object that PostgreSQL's jsonb can hold (well-formed strings), at most 8 KiB as JSON. */
  details: (): FieldCheck => (value) => {
    if (!isObject(value)) return 'must be an object';
    let json: string;
    try {
      json = JSON.stringify(value);
    } catch {
      return 'must be serializable as JSON';
    }
    if (hasIllFormedString(value)) return 'must be well-formed Unicode (a string in it contains a lone surrogate)';
    return Buffer.byteLength(json) > 8192 ? 'must be at most 8 KiB as JSON' : null;
  },
} as const;

function actorProblem(value: unknown): string | null {
  if (!isObject(value) || !ACTOR_TYPES.includes(value.type as Actor['type'])) return `must be an Actor (see Actors) with a type of ${ACTOR_TYPES.join(', ')}`;
  const { type, id, name } = value;
  if (type === 'admin' && !isUuid(id)) return "id must be a UUID for an 'admin' actor";
  if (type === 'user' && id !== null && !isUuid(id)) return "id must be a UUID (or null, anonymous) for a 'user' actor";
  if ((type === 'system' || type === 'service') && id !== null) return `id must be null for a '${type}' actor`;
  if (type === 'service' && !(typeof name === 'string' && SERVICE_NAME_PATTERN.test(name))) {
    return "name must be 1 to 64 characters of a-z, 0-9, '.', '_' and '-', starting with a letter or digit, for a 'service' actor";
  }
  if (type !== 'service' && name !== undefined) return "name is for a 'service' actor only";
  return null;
}

/**
 * Checks a command's fields before it touches anything; throws InvalidCommandInput naming the
 * first field at fault. Inside AuditedOperation.run, that becomes the operation's one Failed
 * (reason `invalid_input`, `details.field`).
 */
export function assertValidInput<C extends object>(command: C, rules: InputRules<C>): void {
  for (const [field, check] of Object.entries(rules) as Array<[string, FieldCheck]>) {
    const problem = check((command as Record<string, unknown>)[field]);
    if (problem) throw new InvalidCommandInput(command.constructor.name, field, problem);
  }
}
