import { Actor, Actors } from '../../domain/actor';
import { isRequestId, RequestContext } from '../../domain/request-context';
import { Checks, FieldCheck } from '../validation/command-input';

const keep = <T>(check: FieldCheck, value: T, otherwise: T): T => (check(value) === null ? value : otherwise);

const uuidOrNull = Checks.nullableUuid();
const reasonOrNull = Checks.reason();
const ipAddress = Checks.text(1, 64, { wellFormed: false });
const userAgent = Checks.text(1, 512, { wellFormed: false });

/**
 * An operation's opening facts as the audit columns can hold them, so its Attempted entry (and
 * the Failed of a command refused for its input) is always written: an id that is not a UUID, a
 * text too long or ill-formed, details jsonb cannot hold are recorded as null (or empty), and
 * what is not an actor as an anonymous user. A valid command's facts pass unchanged.
 */
export function recordable(start: {
  actor: Actor;
  subjectUserId: string | null;
  sessionId: string | null;
  reason: string | null;
  context: RequestContext;
  details: Record<string, unknown>;
}) {
  const context = (typeof start.context === 'object' && start.context !== null ? start.context : {}) as Partial<RequestContext>;
  return {
    actor: keep(Checks.actor(), start.actor, Actors.anonymous()),
    subjectUserId: keep(uuidOrNull, start.subjectUserId ?? null, null),
    sessionId: keep(uuidOrNull, start.sessionId ?? null, null),
    reason: start.reason === null ? null : keep(reasonOrNull, start.reason, null),
    ipAddress: keep(ipAddress, context.ipAddress ?? null, null),
    userAgent: keep(userAgent, context.userAgent ?? null, null),
    requestId: isRequestId(context.requestId) ? context.requestId : null,
    details: keep(Checks.details(), start.details, {}),
  };
}
