import { Actors, NO_REQUEST_CONTEXT, RevokeAllUserSessions } from '@app/sessions';
import { CommandBus } from '@nestjs/cqrs';
import { randomUUID } from 'node:crypto';
import { signUp } from '../support/api';
import { type AuditRow, sql } from '../support/sql';
import { startTestStack, type TestStack } from '../support/test-app';

jest.setTimeout(60_000);

type ServiceAuditRow = AuditRow & { actor_name: string | null };

/** A module of the host acting on its own behalf: `Actors.service(name)`, its name in the audit trail. */
describe('service actors (real PostgreSQL)', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ label: 'service-actors' });
  });

  afterAll(async () => {
    await stack?.close();
  });

  const auditOf = (userId: string) =>
    sql<ServiceAuditRow>(
      stack.databaseUrl,
      `SELECT * FROM audit_entries WHERE action = 'sessions.revoke_all' AND (user_id = $1 OR user_id IS NULL) ORDER BY event_id`,
      [userId],
    );

  it('records a revoke-all by Actors.service("billing") as actor type service with its name', async () => {
    const devices = await signUp(stack, 2, 'service-actor');
    const { userId } = devices[0];
    const outcome = await stack.web
      .get(CommandBus)
      .execute(new RevokeAllUserSessions(userId, 'subscription_ended', Actors.service('billing'), NO_REQUEST_CONTEXT));
    expect(outcome).toMatchObject({ kind: 'revoked', revokedCount: 2 });
    await stack.settleAudit();
    const rows = await auditOf(userId);
    expect(rows.map((r) => [r.outcome, r.actor_type, r.actor_id, r.actor_name, r.reason])).toEqual([
      ['attempted', 'service', null, 'billing', 'subscription_ended'],
      ['succeeded', 'service', null, 'billing', 'subscription_ended'],
    ]);
    const sessions = await sql<{ revoked_reason: string; revoked_by: string | null }>(
      stack.databaseUrl,
      `SELECT revoked_reason, revoked_by FROM sessions WHERE user_id = $1`,
      [userId],
    );
    expect(sessions).toEqual([
      { revoked_reason: 'subscription_ended', revoked_by: null },
      { revoked_reason: 'subscription_ended', revoked_by: null },
    ]);
  });

  it.each([['Billing Team'], [''], ['x'.repeat(65)], ['-billing']])('refuses the service name %j as invalid input, changing nothing', async (name) => {
    const [device] = await signUp(stack, 1, 'service-actor-bad');
    await expect(
      stack.web.get(CommandBus).execute(new RevokeAllUserSessions(device.userId, 'subscription_ended', Actors.service(name), NO_REQUEST_CONTEXT)),
    ).rejects.toMatchObject({
      name: 'InvalidCommandInput',
      field: 'actor',
    });
    const active = await sql(stack.databaseUrl, `SELECT 1 FROM sessions WHERE user_id = $1 AND revoked_at IS NULL`, [device.userId]);
    expect(active).toHaveLength(1);
  });

  it('holds a name for service actors only, at the database level', async () => {
    const insert = (actorType: string, actorName: string | null) =>
      sql(
        stack.databaseUrl,
        `INSERT INTO audit_entries (event_id, correlation_id, action, outcome, occurred_at, actor_type, actor_name) VALUES ($1, $2, 'user.login', 'attempted', now(), $3, $4)`,
        [randomUUID(), randomUUID(), actorType, actorName],
      );
    await expect(insert('service', null)).rejects.toMatchObject({ code: '23514', constraint: 'audit_entries_actor_name_check' });
    await expect(insert('user', 'billing')).rejects.toMatchObject({ code: '23514', constraint: 'audit_entries_actor_name_check' });
    await expect(insert('robot', null)).rejects.toMatchObject({ code: '23514', constraint: 'audit_entries_actor_type_check' });
  });
});
