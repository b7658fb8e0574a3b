import { CommandBus } from '@nestjs/cqrs';
import { Actors, NO_REQUEST_CONTEXT, RevokeAllUserSessions } from '@app/sessions';
import { bearer, login, meStatus, signUp, uniqueEmail } from '../support/api';
import { startTestStack, type TestStack } from '../support/test-app';

const ADMIN = { email: uniqueEmail('admin'), password: 'admin password 1' };

/**
 * PostgreSQL compares uuids whatever their case, so a revocation given an upper-case id ends
 * the right sessions; its cache markers must then name them as the access tokens do (lower
 * case), or the cached "active" entries outlive the revocation for up to a minute.
 */
describe('a revocation given an upper-case id', () => {
  let stack: TestStack;
  let adminToken: string;

  beforeAll(async () => {
    stack = await startTestStack({ label: 'canonical-ids', admin: ADMIN });
    adminToken = (await login(stack, ADMIN.email, ADMIN.password)).accessToken;
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('refuses the sessions at once after an admin revoke-all of the upper-case user id', async () => {
    const devices = await signUp(stack, 2, 'upper-user');
    for (const device of devices) expect(await meStatus(stack, device.accessToken)).toBe(200); // cached "active"
    const response = await stack
      .adminHttp()
      .post(`/admin/users/${devices[0].userId.toUpperCase()}/sessions/revoke-all`)
      .set(...bearer(adminToken))
      .send({ reason: 'Upper-case id pasted from a ticket' })
      .expect(200);
    expect(response.body).toMatchObject({ revokedCount: 2, accessTokensValidUntil: expect.any(String) });
    for (const device of devices) expect(await meStatus(stack, device.accessToken)).toBe(401);
  });

  it('refuses the session at once after an admin revocation of the upper-case session id', async () => {
    const [device] = await signUp(stack, 1, 'upper-session');
    expect(await meStatus(stack, device.accessToken)).toBe(200);
    await stack
      .adminHttp()
      .delete(`/admin/sessions/${device.sessionId.toUpperCase()}`)
      .set(...bearer(adminToken))
      .send({ reason: 'Upper-case id pasted from a ticket' })
      .expect(200);
    expect(await meStatus(stack, device.accessToken)).toBe(401);
  });

  it('refuses the sessions at once after another module dispatches RevokeAllUserSessions with an upper-case id', async () => {
    const devices = await signUp(stack, 2, 'upper-module');
    for (const device of devices) expect(await meStatus(stack, device.accessToken)).toBe(200);
    const outcome = await stack.web
      .get(CommandBus)
      .execute(new RevokeAllUserSessions(devices[0].userId.toUpperCase(), 'security_incident', Actors.system(), NO_REQUEST_CONTEXT));
    expect(outcome).toMatchObject({ kind: 'revoked', revokedCount: 2 });
    for (const device of devices) expect(await meStatus(stack, device.accessToken)).toBe(401);
  });
});
