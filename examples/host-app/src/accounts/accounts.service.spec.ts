import { AuditActions, requestContext, SessionAuthenticator } from '@app/sessions';
import { SessionsTesting, SessionsTestingModule } from '@app/sessions/testing';
import { CqrsModule } from '@nestjs/cqrs';
import { Test, TestingModule } from '@nestjs/testing';
import { AccountsModule } from './accounts.module';
import { AccountsService } from './accounts.service';
import { SignOutNotices } from './sign-out-notices';

/**
 * The host's feature module over the library's real command handlers, with no PostgreSQL and no
 * Redis: `@app/sessions/testing` replaces SessionsModule, nothing else of the host changes.
 */
describe('AccountsService', () => {
  const context = requestContext('203.0.113.9', 'accounts.service.spec');
  const password = 'a long and unusual passphrase 7';
  let moduleRef: TestingModule;
  let accounts: AccountsService;
  let authenticator: SessionAuthenticator;

  beforeEach(async () => {
    moduleRef = await Test.createTestingModule({ imports: [CqrsModule.forRoot(), SessionsTestingModule.forRoot(), AccountsModule] }).compile();
    await moduleRef.init();
    accounts = moduleRef.get(AccountsService);
    authenticator = moduleRef.get(SessionAuthenticator);
  });

  afterEach(async () => {
    await moduleRef.close();
  });

  async function signedInUser(email = 'ada@example.com') {
    const registered = await accounts.register(email, password, context);
    if (registered.kind !== 'registered') throw new Error(`register refused: ${registered.reason}`);
    const login = await accounts.signIn(email, password, context);
    if (login.kind !== 'authenticated') throw new Error(`sign-in refused: ${login.reason}`);
    return { ...login, userId: registered.userId };
  }

  it('signs a user out everywhere: the tokens stop working at once, the user gets a notice, the audit trail has the triad', async () => {
    const user = await signedInUser();
    await expect(authenticator.authenticate(user.accessToken)).resolves.toEqual({ userId: user.userId, sessionId: user.sessionId });

    await expect(accounts.signOutEverywhere(user.userId, context)).resolves.toEqual({
      kind: 'revoked',
      revokedCount: 1,
      sessionIds: [user.sessionId],
      effectiveAt: expect.any(Date),
      accessTokensValidUntil: expect.any(Date),
    });

    await expect(authenticator.authenticate(user.accessToken)).resolves.toBeNull();
    expect(moduleRef.get(SignOutNotices).for(user.userId)).toEqual([{ userId: user.userId, revokedCount: 1, at: expect.any(Date) }]);
    const testing = moduleRef.get(SessionsTesting);
    await testing.settle();
    const revokeAll = testing.auditEntries().filter((entry) => entry.action === AuditActions.revokeAllSessions);
    expect(revokeAll.map((entry) => entry.outcome)).toEqual(['attempted', 'succeeded']);
    expect(new Set(revokeAll.map((entry) => entry.correlationId)).size).toBe(1);
  });

  it('signs one session out: the others, and other users, keep theirs', async () => {
    const user = await signedInUser();
    const second = await accounts.signIn('ada@example.com', password, context);
    if (second.kind !== 'authenticated') throw new Error(`sign-in refused: ${second.reason}`);
    const stranger = await signedInUser('alan@example.com');

    // A refresh token of someone else ends only the caller's own session (the Bearer's).
    await expect(accounts.signOut(stranger.refreshToken, { userId: user.userId, sessionId: user.sessionId }, context)).resolves.toEqual({
      kind: 'revoked',
      userId: user.userId,
      sessionId: user.sessionId,
      revokedCount: 1,
      sessionIds: [user.sessionId],
      effectiveAt: expect.any(Date),
      accessTokensValidUntil: expect.any(Date),
    });
    await expect(authenticator.authenticate(user.accessToken)).resolves.toBeNull();
    await expect(authenticator.authenticate(second.accessToken)).resolves.toEqual({ userId: user.userId, sessionId: second.sessionId });
    await expect(authenticator.authenticate(stranger.accessToken)).resolves.toEqual({ userId: stranger.userId, sessionId: stranger.sessionId });
    expect(moduleRef.get(SignOutNotices).for(user.userId)).toEqual([]);
  });

  it('refuses a second account for one email and a wrong password', async () => {
    await signedInUser('grace@example.com');
    await expect(accounts.register('grace@example.com', password, context)).resolves.toEqual({ kind: 'rejected', reason: 'email_taken' });
    await expect(accounts.signIn('grace@example.com', `${password}!`, context)).resolves.toEqual({ kind: 'rejected', reason: 'invalid_credentials' });
  });
});
