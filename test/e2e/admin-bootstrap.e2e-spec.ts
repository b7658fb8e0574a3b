import { Actors, ChangeUserRole, NO_REQUEST_CONTEXT } from '@app/sessions';
import { CommandBus } from '@nestjs/cqrs';
import { bearer, login, register, signUp, uniqueEmail } from '../support/api';
import { AuditRow, brokenTriads, sql } from '../support/sql';
import { startTestStack, type TestStack } from '../support/test-app';

jest.setTimeout(60_000);

/**
 * ADMIN_EMAIL at start-up creates the first administrator, and nothing else: an account that
 * someone registered with that address beforehand is never promoted, and role changes are an
 * audited command of an administrator.
 */
describe('administrator bootstrap and role changes', () => {
  const stacks: TestStack[] = [];
  const start = async (options: Parameters<typeof startTestStack>[0]) => {
    const stack = await startTestStack(options);
    stacks.push(stack);
    return stack;
  };

  afterAll(async () => {
    // Instances sharing a database first, their owner (who drops it) last.
    for (const stack of stacks.reverse()) await stack.close();
  });

  const bootstrapRows = (stack: TestStack) =>
    sql<AuditRow>(stack.databaseUrl, `SELECT * FROM audit_entries WHERE action = 'admin.bootstrap' ORDER BY event_id`);

  it('never promotes an account registered with ADMIN_EMAIL before start-up: start-up stops, naming the conflict', async () => {
    const owner = await start({ label: 'bootstrap-takeover' });
    const adminEmail = uniqueEmail('ops');
    // The attacker registers the address the operator will configure.
    const attacker = await register(owner, adminEmail, 'attacker chosen password');

    const refusal = await start({ label: 'bootstrap-takeover', shareWith: owner, admin: { email: adminEmail, password: 'operator password 1' } }).then(
      () => null,
      (error: Error) => error,
    );
    expect(refusal?.message).toContain(`ADMIN_EMAIL (${adminEmail}) belongs to an existing account that is not an administrator (user ${attacker.userId})`);

    const [user] = await sql<{ role: string }>(owner.databaseUrl, `SELECT role FROM users WHERE id = $1`, [attacker.userId]);
    expect(user.role).toBe('user');
    const signedIn = await login(owner, adminEmail, 'attacker chosen password');
    await owner
      .adminHttp()
      .get('/admin/audit')
      .set(...bearer(signedIn.accessToken))
      .expect(403);
    // The refused bootstrap is in the audit trail, by the system, naming the account.
    expect((await bootstrapRows(owner)).map((r) => [r.outcome, r.actor_type, r.actor_id, r.user_id, r.reason])).toEqual([
      ['attempted', 'system', null, null, null],
      ['failed', 'system', null, attacker.userId, 'email_taken'],
    ]);
  });

  it('refuses to create the first administrator with a password the policy refuses: start-up stops, saying why', async () => {
    const owner = await start({ label: 'bootstrap-weak' });
    const adminEmail = uniqueEmail('weak-admin');
    const refusal = await start({ label: 'bootstrap-weak', shareWith: owner, admin: { email: adminEmail, password: '12345678' } }).then(
      () => null,
      (error: Error) => error,
    );
    expect(refusal?.message).toContain('ADMIN_PASSWORD is refused by the password policy: it is a commonly used password');
    expect(await sql(owner.databaseUrl, `SELECT id FROM users WHERE email = $1`, [adminEmail])).toEqual([]);
    expect((await bootstrapRows(owner)).map((r) => [r.outcome, r.actor_type, r.reason])).toEqual([
      ['attempted', 'system', null],
      ['failed', 'system', 'weak_password'],
    ]);
  });

  it('creates the first administrator once, through an audited command by the system; restarts write nothing', async () => {
    const admin = { email: uniqueEmail('first-admin'), password: 'first admin password' };
    const owner = await start({ label: 'bootstrap-first', admin });
    await owner.settleAudit();
    const rows = await bootstrapRows(owner);
    expect(rows.map((r) => [r.outcome, r.actor_type, r.reason])).toEqual([
      ['attempted', 'system', null],
      ['succeeded', 'system', null],
    ]);
    const signedIn = await login(owner, admin.email, admin.password);
    expect(rows[1].user_id).toBe(signedIn.userId);
    await owner
      .adminHttp()
      .get('/admin/audit')
      .set(...bearer(signedIn.accessToken))
      .expect(200);

    // A restart with the same setting, and one naming a new free address: an admin exists, nothing happens.
    await start({ label: 'bootstrap-first', shareWith: owner, admin });
    await start({ label: 'bootstrap-first', shareWith: owner, admin: { email: uniqueEmail('second-admin'), password: 'another password' } });
    expect(await bootstrapRows(owner)).toHaveLength(2);
    const [{ admins }] = await sql<{ admins: number }>(owner.databaseUrl, `SELECT count(*)::int AS admins FROM users WHERE role = 'admin'`);
    expect(admins).toBe(1);
  });

  it('changes roles only through the audited command, with the reason; refuses an unknown user (404) and the last admin (409)', async () => {
    const admin = { email: uniqueEmail('role-admin'), password: 'role admin password' };
    const stack = await start({ label: 'role-change', admin });
    const root = await login(stack, admin.email, admin.password);
    const [user] = await signUp(stack, 1, 'promoted');
    const route = (userId: string) =>
      stack
        .adminHttp()
        .post(`/admin/users/${userId}/role`)
        .set(...bearer(root.accessToken));

    await stack
      .adminHttp()
      .post(`/admin/users/${user.userId}/role`)
      .set(...bearer(user.accessToken))
      .send({ role: 'admin', reason: 'self-promotion' })
      .expect(403);
    for (const body of [
      { role: 'root', reason: 'no such role' },
      { role: 'admin' },
      { role: 'admin', reason: 'no' },
      { role: 'admin', reason: 'ok reason', extra: 1 },
    ]) {
      const refused = await route(user.userId).send(body).expect(400);
      expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    }

    const promoted = await route(user.userId).send({ role: 'admin', reason: 'Joins the on-call rota' }).expect(200);
    expect(promoted.body).toEqual({ userId: user.userId, role: 'admin', previousRole: 'user' });
    await stack
      .adminHttp()
      .get('/admin/audit')
      .set(...bearer(user.accessToken))
      .expect(200);

    const unknown = '0190a5d2-0000-7000-8000-00000000abcd';
    const missing = await route(unknown).send({ role: 'admin', reason: 'Typo in the id' }).expect(404);
    expect(missing.headers['content-type']).toMatch(/^application\/problem\+json/);

    // Demotions: the other admin goes back to user (no session ends), and the last admin cannot be demoted.
    // Acting on another administrator needs the password again first (the step-up).
    const stepUp = await route(user.userId).send({ role: 'user', reason: 'Left the on-call rota' }).expect(403);
    expect(stepUp.body.code).toBe('reauthentication_required');
    await stack
      .adminHttp()
      .post('/admin/auth/reauthenticate')
      .set(...bearer(root.accessToken))
      .send({ password: admin.password })
      .expect(200);
    await route(user.userId).send({ role: 'user', reason: 'Left the on-call rota' }).expect(200);
    await stack
      .adminHttp()
      .get('/admin/audit')
      .set(...bearer(user.accessToken))
      .expect(403);
    await stack
      .http()
      .get('/auth/me')
      .set(...bearer(user.accessToken))
      .expect(200);
    // The last admin demoting themself: refused as a self-demotion (which any admin is refused),
    // decided by the command; last_admin remains for two admins demoting each other at once.
    const self = await route(root.userId).send({ role: 'user', reason: 'Demote myself' }).expect(409);
    expect(self.body).toMatchObject({ status: 409, code: 'cannot_demote_self' });

    await stack.settleAudit();
    const rows = await sql<AuditRow>(stack.databaseUrl, `SELECT * FROM audit_entries WHERE action = 'user.role_change' ORDER BY event_id`);
    expect(rows.map((r) => [r.outcome, r.actor_type, r.actor_id, r.user_id, r.reason])).toEqual([
      ['attempted', 'admin', root.userId, user.userId, 'Joins the on-call rota'],
      ['succeeded', 'admin', root.userId, user.userId, 'Joins the on-call rota'],
      ['attempted', 'admin', root.userId, unknown, 'Typo in the id'],
      ['failed', 'admin', root.userId, unknown, 'user_not_found'],
      ['attempted', 'admin', root.userId, user.userId, 'Left the on-call rota'],
      ['succeeded', 'admin', root.userId, user.userId, 'Left the on-call rota'],
      ['attempted', 'admin', root.userId, root.userId, 'Demote myself'],
      ['failed', 'admin', root.userId, root.userId, 'cannot_demote_self'],
    ]);
    expect(rows[1].details).toMatchObject({ role: 'admin', previousRole: 'user' });
    expect(await brokenTriads(stack.databaseUrl)).toEqual([]);
  });

  it('leaves one admin when the only two are demoted concurrently', async () => {
    const admin = { email: uniqueEmail('pair-admin'), password: 'pair admin password' };
    const stack = await start({ label: 'role-race', admin });
    const first = await login(stack, admin.email, admin.password);
    const [second] = await signUp(stack, 1, 'second-admin');
    await stack
      .adminHttp()
      .post(`/admin/users/${second.userId}/role`)
      .set(...bearer(first.accessToken))
      .send({ role: 'admin', reason: 'Second admin' })
      .expect(200);

    // Dispatched directly: over HTTP the admin guard of the later request could answer 403 first.
    const bus = stack.admin.get(CommandBus);
    const outcomes = await Promise.all([
      bus.execute(new ChangeUserRole(second.userId, 'user', 'Race one', Actors.admin(first.userId), NO_REQUEST_CONTEXT)),
      bus.execute(new ChangeUserRole(first.userId, 'user', 'Race two', Actors.admin(second.userId), NO_REQUEST_CONTEXT)),
    ]);
    expect(outcomes.map((o) => (o.kind === 'changed' ? o.kind : o.reason)).sort()).toEqual(['changed', 'last_admin']);
    const [{ admins }] = await sql<{ admins: number }>(stack.databaseUrl, `SELECT count(*)::int AS admins FROM users WHERE role = 'admin'`);
    expect(admins).toBe(1);
  });
});
