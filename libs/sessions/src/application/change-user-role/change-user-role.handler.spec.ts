import { Actors } from '../../domain/actor';
import { requestContext } from '../../domain/request-context';
import { FixedClock, inMemoryPorts, RecordingEventBus } from '../../testing/fakes';
import { AuditTrail } from '../audit/audit-trail';
import { ChangeUserRole } from './change-user-role.command';
import { ChangeUserRoleHandler } from './change-user-role.handler';

const ADMIN = '0190a5d2-0000-7000-8000-0000000000ad';
const OTHER_ADMIN = '0190a5d2-0000-7000-8000-0000000000ae';
const context = requestContext('198.51.100.4', 'console');

function setup() {
  const { db: store, unitOfWork } = inMemoryPorts();
  const events = new RecordingEventBus();
  const clock = new FixedClock();
  store.addUser(ADMIN, 'admin');
  store.addUser(OTHER_ADMIN, 'admin');
  return { store, events, handler: new ChangeUserRoleHandler(unitOfWork, new AuditTrail(events.asEventBus(), clock)) };
}

describe('ChangeUserRoleHandler', () => {
  it('refuses an administrator demoting themself, audited as Failed cannot_demote_self, though another admin exists', async () => {
    const { store, events, handler } = setup();
    const outcome = await handler.execute(new ChangeUserRole(ADMIN.toUpperCase(), 'user', 'stepping down', Actors.admin(ADMIN), context));
    expect(outcome).toEqual({ kind: 'rejected', reason: 'cannot_demote_self' });
    expect(store.users.get(ADMIN)?.role).toBe('admin');
    expect(events.outcomes()).toEqual(['UserRoleChangeAttempted:stepping down', 'UserRoleChangeFailed:cannot_demote_self']);
  });

  it('lets another administrator demote them', async () => {
    const { store, handler } = setup();
    const outcome = await handler.execute(new ChangeUserRole(ADMIN, 'user', 'stepping down', Actors.admin(OTHER_ADMIN), context));
    expect(outcome).toEqual({ kind: 'changed', userId: ADMIN, role: 'user', previousRole: 'admin' });
    expect(store.users.get(ADMIN)?.role).toBe('user');
  });
});
