// A host's unit test, as a team adopting the library writes one: it imports only the public
// entries, and runs the library's real handlers with no PostgreSQL and no Redis.
import {
  AllSessionsRevoked,
  Actors,
  LoginUser,
  NO_REQUEST_CONTEXT,
  RegisterUser,
  RevocationReasons,
  RevokeAllUserSessions,
  SessionAuthenticator,
  SessionDirectory,
} from '@app/sessions';
import { FixedClock, SessionsTesting, SessionsTestingModule } from '@app/sessions/testing';
import { Injectable, Module } from '@nestjs/common';
import { CommandBus, CqrsModule, EventsHandler, IEventHandler } from '@nestjs/cqrs';
import { Test, TestingModule } from '@nestjs/testing';

/** The host's feature module: it signs people up and, on request, ends all their sessions. */
@Injectable()
class Accounts {
  constructor(private readonly commands: CommandBus) {}

  async signUp(email: string, password: string): Promise<{ userId: string; accessToken: string }> {
    const registered = await this.commands.execute(new RegisterUser(email, password, NO_REQUEST_CONTEXT));
    if (registered.kind !== 'registered') throw new Error(`register refused: ${registered.reason}`);
    const login = await this.commands.execute(new LoginUser(email, password, NO_REQUEST_CONTEXT));
    if (login.kind !== 'authenticated') throw new Error(`login refused: ${login.reason}`);
    return { userId: registered.userId, accessToken: login.accessToken };
  }

  signOutEverywhere(userId: string) {
    return this.commands.execute(new RevokeAllUserSessions(userId, RevocationReasons.userRevokedAll, Actors.system(), NO_REQUEST_CONTEXT));
  }
}

@EventsHandler(AllSessionsRevoked)
class RevocationsSeen implements IEventHandler<AllSessionsRevoked> {
  readonly users: string[] = [];
  handle(event: AllSessionsRevoked): void {
    if (event.subjectUserId) this.users.push(event.subjectUserId);
  }
}

@Module({ providers: [Accounts, RevocationsSeen] })
class AccountsModule {}

const PASSWORD = 'correct horse battery staple 42';

describe('SessionsTestingModule', () => {
  let moduleRef: TestingModule;
  let clock: FixedClock;

  beforeEach(async () => {
    clock = new FixedClock(new Date());
    moduleRef = await Test.createTestingModule({ imports: [CqrsModule.forRoot(), SessionsTestingModule.forRoot({ clock }), AccountsModule] }).compile();
    await moduleRef.init();
  });

  afterEach(async () => {
    await moduleRef.close();
  });

  it('runs register, login and revoke-all through the real handlers, enforced at once', async () => {
    const accounts = moduleRef.get(Accounts);
    const authenticator = moduleRef.get(SessionAuthenticator);
    const { userId, accessToken } = await accounts.signUp('Ada@Example.com', PASSWORD);
    expect(await authenticator.authenticate(accessToken)).toMatchObject({ userId });
    const found = await moduleRef.get(SessionDirectory).findUserByEmail('ada@example.com');
    expect(found).toMatchObject({ id: userId, email: 'ada@example.com', role: 'user' });
    // The directory is a read API other modules use: it never hands out a password hash.
    expect(found).not.toHaveProperty('passwordHash');

    const outcome = await accounts.signOutEverywhere(userId);
    expect(outcome).toMatchObject({ kind: 'revoked', revokedCount: 1 });
    expect(await authenticator.authenticate(accessToken)).toBeNull();
    expect(await moduleRef.get(SessionDirectory).listSessions(userId)).toEqual([]);
    expect(moduleRef.get(RevocationsSeen).users).toEqual([userId]);
  });

  it('keeps the audit trail: each command an Attempted, then one outcome', async () => {
    const accounts = moduleRef.get(Accounts);
    const { userId } = await accounts.signUp('grace@example.com', PASSWORD);
    await accounts.signOutEverywhere(userId);
    const testing = moduleRef.get(SessionsTesting);
    await testing.settle();
    const trail = testing.auditEntries().map((entry) => `${entry.action}:${entry.outcome}`);
    expect(trail).toEqual([
      'user.register:attempted',
      'user.register:succeeded',
      'user.login:attempted',
      'user.login:succeeded',
      'sessions.revoke_all:attempted',
      'sessions.revoke_all:succeeded',
    ]);
    const revokeAll = testing.auditEntries().filter((entry) => entry.action === 'sessions.revoke_all');
    expect(new Set(revokeAll.map((entry) => entry.correlationId)).size).toBe(1);
    expect(revokeAll[1]).toMatchObject({ outcome: 'succeeded', actorType: 'system', userId });
  });

  it('moves with the clock it was given', async () => {
    const { accessToken } = await moduleRef.get(Accounts).signUp('linus@example.com', PASSWORD);
    clock.current = new Date(clock.current.getTime() + 16 * 60 * 1000);
    // Past the 15-minute access token lifetime.
    expect(await moduleRef.get(SessionAuthenticator).authenticate(accessToken)).toBeNull();
  });

  it('gives each module its own state', async () => {
    await moduleRef.get(Accounts).signUp('shared@example.com', PASSWORD);
    const other = await Test.createTestingModule({ imports: [CqrsModule.forRoot(), SessionsTestingModule.forRoot(), AccountsModule] }).compile();
    await other.init();
    try {
      expect(await other.get(SessionDirectory).findUserByEmail('shared@example.com')).toBeNull();
      await expect(other.get(Accounts).signUp('shared@example.com', PASSWORD)).resolves.toMatchObject({ userId: expect.any(String) });
    } finally {
      await other.close();
    }
  });
});
