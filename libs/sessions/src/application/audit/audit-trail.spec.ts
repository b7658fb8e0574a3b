import { Actors } from '../../domain/actor';
import { requestContext } from '../../domain/request-context';
import { FixedClock, inMemoryPorts, RecordingEventBus } from '../../testing/fakes';
import { AuditOutcomeUnavailableError } from '../ports/audit-log.port';
import { REGISTER_EVENTS } from '../register-user/register-user.events';
import { AuditTrail } from './audit-trail';

const USER = '0190a5d2-0000-7000-8000-0000000000e1';

describe('AuditedOperation', () => {
  it('rolls its change back when the operation already has an outcome (closed as interrupted), keeping that outcome', async () => {
    const { db: store, unitOfWork } = inMemoryPorts();
    const events = new RecordingEventBus();
    const clock = new FixedClock();
    const operation = new AuditTrail(events.asEventBus(), clock).begin(REGISTER_EVENTS, {
      actor: Actors.anonymous(),
      subjectUserId: null,
      context: requestContext('198.51.100.1', 'unit'),
    });
    // What a recovery pass that took this instance for dead wrote meanwhile.
    const interrupted = { ...events.events[0], eventId: 'recovery', outcome: 'failed' as const, reason: 'interrupted' };
    store.audit.push({ ...interrupted, action: 'user.register', userId: null, actorType: 'user', actorId: null, actorName: null, details: {} });

    await expect(
      operation.run(() =>
        unitOfWork.inTransaction(async (tx) => {
          await tx.users.insert({ id: USER, email: 'late@example.com', passwordHash: 'x', role: 'user', createdAt: clock.now() });
          await operation.succeedIn(tx, { subjectUserId: USER });
        }),
      ),
    ).rejects.toBeInstanceOf(AuditOutcomeUnavailableError);

    expect(store.users.has(USER)).toBe(false);
    expect(store.audit.map((e) => [e.outcome, e.reason])).toEqual([['failed', 'interrupted']]);
    expect(events.outcomes()).toEqual(['UserRegistrationAttempted:', 'UserRegistrationFailed:internal_error']);
    expect(events.events[1].details).toMatchObject({ error: 'AuditOutcomeUnavailableError' });
  });
});
