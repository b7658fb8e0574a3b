import {
  Actors,
  ChangeUserRole,
  DisableUser,
  LogoutUser,
  NO_REQUEST_CONTEXT,
  RefreshTokens,
  RevokeAllUserSessions,
  RevokeSession,
  requestContext,
  SessionDirectory,
} from '@app/sessions';
import { CommandBus } from '@nestjs/cqrs';
import { InvalidCommandInput } from '../../libs/sessions/src/domain/sessions-error';
import { signUp } from '../support/api';
import { type AuditRow, brokenTriads, sql } from '../support/sql';
import { startTestStack, type TestStack } from '../support/test-app';

jest.setTimeout(60_000);

const ADMIN = '0190a5d2-0000-7000-8000-0000000000ad';

/**
 * Commands dispatched by another module with input that cannot be valid: the library refuses them
 * with its own typed error before touching the database (no driver error, no SQLSTATE 22P02),
 * records the attempt and its one Failed `invalid_input` naming the field, and changes nothing.
 */
describe('commands refuse invalid input (real PostgreSQL)', () => {
  let stack: TestStack;
  let bus: CommandBus;

  beforeAll(async () => {
    stack = await startTestStack({ label: 'command-input' });
    bus = stack.web.get(CommandBus);
  });

  afterAll(async () => {
    await stack?.close();
  });

  /** Everything a command could have changed. */
  const state = async () =>
    sql(
      stack.databaseUrl,
      `SELECT (SELECT count(*) FROM users)::int AS users, (SELECT count(*) FROM sessions WHERE revoked_at IS NULL)::int AS active,
              (SELECT count(*) FROM refresh_tokens WHERE revoked_at IS NULL)::int AS live_tokens, (SELECT count(*) FROM cache_marker_outbox)::int AS queued,
              (SELECT string_agg(role || coalesce(disabled_at::text, ''), ',' ORDER BY id) FROM users) AS roles`,
    );

  it('answers the read API with a non-UUID id as "no such user or session", not with a driver error', async () => {
    const directory = stack.web.get(SessionDirectory);
    await expect(directory.findUser('not-a-uuid')).resolves.toBeNull();
    await expect(directory.findSession('not-a-uuid')).resolves.toBeNull();
    await expect(directory.listSessions('not-a-uuid', true)).resolves.toEqual([]);
  });

  it("refuses RevokeAllUserSessions('not-a-uuid', ...) with InvalidCommandInput, its triad recorded, nothing changed", async () => {
    const [device] = await signUp(stack, 2, 'invalid-input');
    const before = await state();

    const error = await bus
      .execute(new RevokeAllUserSessions('not-a-uuid', 'Account takeover', Actors.admin(ADMIN), requestContext('198.51.100.9', 'console')))
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(InvalidCommandInput);
    expect(error).toMatchObject({ code: 'invalid_input', command: 'RevokeAllUserSessions', field: 'userId', problem: 'must be a UUID' });
    await stack.settleAudit();
    const rows = await sql<AuditRow>(stack.databaseUrl, `SELECT * FROM audit_entries WHERE action = 'sessions.revoke_all' ORDER BY event_id`);
    expect(rows.map((r) => [r.outcome, r.reason, r.user_id])).toEqual([
      ['attempted', 'Account takeover', null],
      ['failed', 'invalid_input', null],
    ]);
    expect(rows[0].correlation_id).toBe(rows[1].correlation_id);
    expect(rows[1]).toMatchObject({
      actor_type: 'admin',
      actor_id: ADMIN,
      ip_address: '198.51.100.9',
      details: { field: 'userId', problem: 'must be a UUID' },
    });
    expect(await state()).toEqual(before);
    expect(device.userId).toBeDefined();
    // No driver error reached the log: the audit recorder wrote both entries at once.
    expect(stack.logs.lines.filter((line) => line.includes('audit_write_failed') || line.includes('22P02'))).toEqual([]);
  });

  it.each([
    ['RevokeSession', () => new RevokeSession(null, 'nope', 'Suspicious', Actors.admin(ADMIN), NO_REQUEST_CONTEXT), 'session.revoke', 'sessionId'],
    [
      'RevokeSession (reason too long)',
      () => new RevokeSession(null, ADMIN, 'x'.repeat(201), Actors.admin(ADMIN), NO_REQUEST_CONTEXT),
      'session.revoke',
      'reason',
    ],
    ['ChangeUserRole', () => new ChangeUserRole(ADMIN, 'root' as never, 'Promotion', Actors.admin(ADMIN), NO_REQUEST_CONTEXT), 'user.role_change', 'role'],
    ['DisableUser', () => new DisableUser(ADMIN, 'Takeover', { type: 'admin', id: 'not-a-uuid' }, NO_REQUEST_CONTEXT), 'user.disable', 'actor'],
    ['LogoutUser', () => new LogoutUser('short', null, NO_REQUEST_CONTEXT), 'user.logout', 'refreshToken'],
    ['RefreshTokens', () => new RefreshTokens('a'.repeat(43), { ipAddress: 'x'.repeat(65), userAgent: null }), 'tokens.refresh', 'context'],
  ])('refuses %s with the field named, its triad recorded', async (_name, make, action, field) => {
    const before = await state();
    await expect(bus.execute(make())).rejects.toMatchObject({ name: 'InvalidCommandInput', field });
    await stack.settleAudit();
    const rows = await sql<AuditRow>(stack.databaseUrl, `SELECT * FROM audit_entries WHERE action = $1 AND reason = 'invalid_input'`, [action]);
    expect(rows.map((r) => r.details.field)).toContain(field);
    expect(await state()).toEqual(before);
    expect(await brokenTriads(stack.databaseUrl)).toEqual([]);
  });
});
