import {
  Actors,
  ChangePassword,
  DisableUser,
  LogoutUser,
  NO_REQUEST_CONTEXT,
  RefreshTokens,
  RequirePasswordReset,
  ResetPassword,
  RevokeAllUserSessions,
  RevokeSession,
} from '@app/sessions';
import { CommandBus } from '@nestjs/cqrs';
import { bearer, login, signUp, uniqueEmail, type SignedIn } from '../support/api';
import { expectReceipt } from '../support/receipts';
import { startTestStack, type TestStack } from '../support/test-app';

const ADMIN = { email: uniqueEmail('admin'), password: 'admin password 1' };
const NEW_PASSWORD = 'a brand new passphrase';

/**
 * Every revoking route of the web API answers the receipt of its command, and every revoking
 * command answers one on the CommandBus: checked against the sessions table (exactly the sessions
 * ended, at exactly their revoked_at) and against the `exp` of every access token they were issued.
 */
describe('revocation receipts: web API routes and library commands', () => {
  let stack: TestStack;
  let bus: CommandBus;
  let admin: Awaited<ReturnType<typeof login>>;

  beforeAll(async () => {
    stack = await startTestStack({ label: 'revocation-receipts-e2e', admin: ADMIN });
    bus = stack.web.get(CommandBus);
    admin = await login(stack, ADMIN.email, ADMIN.password);
  });

  afterAll(async () => {
    await stack?.close();
  });

  /** A second access token for the device's session (a refresh): the receipt must outlast both. */
  async function refreshed(device: SignedIn): Promise<SignedIn> {
    const response = await stack.http().post('/auth/refresh').send({ refreshToken: device.refreshToken }).expect(200);
    return { ...device, accessToken: response.body.accessToken, refreshToken: response.body.refreshToken };
  }

  it('POST /auth/logout: 200 with the receipt of the session it ended, and an empty one for a token that ends nothing', async () => {
    const [device] = await signUp(stack, 1, 'logout');
    const later = await refreshed(device);
    const ended = await stack.http().post('/auth/logout').send({ refreshToken: later.refreshToken }).expect(200);
    await expectReceipt(stack, ended.body, { userId: device.userId, ended: [device.sessionId], accessTokens: [device.accessToken, later.accessToken] });
    // The same token again: nothing left to end.
    const again = await stack.http().post('/auth/logout').send({ refreshToken: later.refreshToken }).expect(200);
    expect(again.body).toEqual({ revokedCount: 0, sessionIds: [], effectiveAt: expect.any(String), accessTokensValidUntil: again.body.effectiveAt });
  });

  it("POST /auth/logout with a Bearer: the receipt names the refresh token's session and the Bearer's own", async () => {
    const [phone, laptop] = await signUp(stack, 2, 'logout-both');
    const ended = await stack
      .http()
      .post('/auth/logout')
      .set(...bearer(laptop.accessToken))
      .send({ refreshToken: phone.refreshToken })
      .expect(200);
    await expectReceipt(stack, ended.body, {
      userId: phone.userId,
      ended: [phone.sessionId, laptop.sessionId],
      accessTokens: [phone.accessToken, laptop.accessToken],
    });
  });

  it('DELETE /auth/sessions/:id: 200 with the receipt of that one session', async () => {
    const [here, there] = await signUp(stack, 2, 'delete-one');
    const thereLater = await refreshed(there);
    const ended = await stack
      .http()
      .delete(`/auth/sessions/${there.sessionId}`)
      .set(...bearer(here.accessToken))
      .expect(200);
    await expectReceipt(stack, ended.body, { userId: here.userId, ended: [there.sessionId], accessTokens: [there.accessToken, thereLater.accessToken] });
  });

  it('POST /auth/sessions/revoke-all: the receipt of every session ended, the kept one not among them; an empty one when none is left', async () => {
    const devices = await signUp(stack, 3, 'revoke-all');
    const ended = await stack
      .http()
      .post('/auth/sessions/revoke-all')
      .set(...bearer(devices[0].accessToken))
      .send({ keepCurrent: true })
      .expect(200);
    await expectReceipt(stack, ended.body, {
      userId: devices[0].userId,
      ended: [devices[1].sessionId, devices[2].sessionId],
      accessTokens: devices.slice(1).map((d) => d.accessToken),
    });
    const none = await stack
      .http()
      .post('/auth/sessions/revoke-all')
      .set(...bearer(devices[0].accessToken))
      .send({ keepCurrent: true })
      .expect(200);
    await expectReceipt(stack, none.body, { userId: devices[0].userId, ended: [], accessTokens: [] });
  });

  it("POST /auth/password: 200 with the receipt of the other sessions (not the caller's)", async () => {
    const devices = await signUp(stack, 3, 'change-password');
    const ended = await stack
      .http()
      .post('/auth/password')
      .set(...bearer(devices[0].accessToken))
      .send({ currentPassword: devices[0].password, newPassword: NEW_PASSWORD })
      .expect(200);
    await expectReceipt(stack, ended.body, {
      userId: devices[0].userId,
      ended: [devices[1].sessionId, devices[2].sessionId],
      accessTokens: devices.slice(1).map((d) => d.accessToken),
    });
  });

  it('POST /auth/password/reset: 200 with its receipt, empty when the requirement had ended every session already', async () => {
    const [user] = await signUp(stack, 1, 'reset');
    await stack
      .adminHttp()
      .post('/admin/auth/reauthenticate')
      .set(...bearer(admin.accessToken))
      .send({ password: ADMIN.password })
      .expect(200);
    const issued = await stack
      .adminHttp()
      .post(`/admin/users/${user.userId}/require-password-reset`)
      .set(...bearer(admin.accessToken))
      .send({ reason: 'Password in a breach dump' })
      .expect(200);
    const redeemed = await stack.http().post('/auth/password/reset').send({ resetToken: issued.body.resetToken, newPassword: NEW_PASSWORD }).expect(200);
    // Every session ended with the requirement: the redemption had none left to end.
    await expectReceipt(stack, redeemed.body, { userId: user.userId, ended: [], accessTokens: [] });
    await expectReceipt(stack, { ...issued.body }, { userId: user.userId, ended: [user.sessionId], accessTokens: [user.accessToken] });
  });

  it('answers the same receipts on the CommandBus: every revoking command, checked against PostgreSQL', async () => {
    const [a1, a2, a3] = await signUp(stack, 3, 'bus');
    const single = await bus.execute(new RevokeSession(a1.userId, a1.sessionId, 'bus test', Actors.user(a1.userId), NO_REQUEST_CONTEXT));
    if (single.kind !== 'revoked') throw new Error(`RevokeSession: ${single.reason}`);
    expect(single).toMatchObject({ sessionId: a1.sessionId, userId: a1.userId });
    await expectReceipt(stack, single, { userId: a1.userId, ended: [a1.sessionId], accessTokens: [a1.accessToken] });

    const logout = await bus.execute(new LogoutUser(a2.refreshToken, a2.userId, NO_REQUEST_CONTEXT));
    expect(logout.kind).toBe('revoked');
    await expectReceipt(stack, logout, { userId: a2.userId, ended: [a2.sessionId], accessTokens: [a2.accessToken] });
    const refused = await bus.execute(new LogoutUser(a2.refreshToken, a2.userId, NO_REQUEST_CONTEXT));
    expect(refused.kind).toBe('rejected');
    await expectReceipt(stack, refused, { userId: a2.userId, ended: [], accessTokens: [] });

    const all = await bus.execute(new RevokeAllUserSessions(a3.userId, 'bus test', Actors.user(a3.userId), NO_REQUEST_CONTEXT));
    if (all.kind !== 'revoked') throw new Error(`RevokeAllUserSessions: ${all.reason}`);
    await expectReceipt(stack, all, { userId: a3.userId, ended: [a3.sessionId], accessTokens: [a3.accessToken] });

    const [b1, b2] = await signUp(stack, 2, 'bus-password');
    const changed = await bus.execute(new ChangePassword(b1.userId, b1.sessionId, b1.password, NEW_PASSWORD, NO_REQUEST_CONTEXT));
    if (changed.kind !== 'changed') throw new Error(`ChangePassword: ${changed.reason}`);
    await expectReceipt(stack, changed, { userId: b1.userId, ended: [b2.sessionId], accessTokens: [b2.accessToken] });

    const disabled = await bus.execute(new DisableUser(b1.userId, 'bus test', Actors.admin(admin.userId), NO_REQUEST_CONTEXT));
    if (disabled.kind !== 'disabled') throw new Error(`DisableUser: ${disabled.reason}`);
    await expectReceipt(stack, disabled, { userId: b1.userId, ended: [b1.sessionId], accessTokens: [b1.accessToken] });

    const [c1] = await signUp(stack, 1, 'bus-reset');
    const required = await bus.execute(new RequirePasswordReset(c1.userId, 'bus test', Actors.admin(admin.userId), NO_REQUEST_CONTEXT));
    if (required.kind !== 'reset_required') throw new Error(`RequirePasswordReset: ${required.reason}`);
    await expectReceipt(stack, required, { userId: c1.userId, ended: [c1.sessionId], accessTokens: [c1.accessToken] });
    const reset = await bus.execute(new ResetPassword(required.resetToken, NEW_PASSWORD, NO_REQUEST_CONTEXT));
    if (reset.kind !== 'reset') throw new Error(`ResetPassword: ${reset.reason}`);
    await expectReceipt(stack, reset, { userId: c1.userId, ended: [], accessTokens: [] });

    // A reused refresh token ends its session: the refusal carries that revocation's receipt.
    const [d1] = await signUp(stack, 1, 'bus-reuse');
    const rotated = await refreshed(d1);
    const reuse = await bus.execute(new RefreshTokens(d1.refreshToken, { ...NO_REQUEST_CONTEXT, ipAddress: '198.51.100.77', userAgent: 'thief' }));
    if (reuse.kind !== 'rejected' || reuse.reason !== 'refresh_token_reuse') throw new Error(`RefreshTokens: ${JSON.stringify(reuse)}`);
    expect(reuse.revocation).not.toBeNull();
    await expectReceipt(stack, reuse.revocation!, { userId: d1.userId, ended: [d1.sessionId], accessTokens: [d1.accessToken, rotated.accessToken] });
  });
});
