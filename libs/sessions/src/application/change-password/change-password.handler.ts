import { Inject } from '@nestjs/common';
import { CommandBus, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Actors } from '../../domain/actor';
import { RevocationReasons } from '../../domain/revocation-reason';
import { PASSWORD_HASHER, PasswordHasher } from '../ports/password-hasher.port';
import { SESSION_STORE, SessionStore } from '../ports/session-store.port';
import { RevokeAllUserSessions } from '../revoke-all-user-sessions/revoke-all-user-sessions.command';
import { AuditTrail } from '../shared/audit-trail';
import { ChangePassword, ChangePasswordOutcome } from './change-password.command';
import { CHANGE_PASSWORD_EVENTS } from './change-password.events';

@CommandHandler(ChangePassword)
export class ChangePasswordHandler implements ICommandHandler<ChangePassword> {
  constructor(
    @Inject(SESSION_STORE) private readonly store: SessionStore,
    @Inject(PASSWORD_HASHER) private readonly hasher: PasswordHasher,
    private readonly trail: AuditTrail,
    private readonly commandBus: CommandBus,
  ) {}

  async execute(command: ChangePassword): Promise<ChangePasswordOutcome> {
    const actor = Actors.user(command.userId);
    const operation = this.trail.begin(CHANGE_PASSWORD_EVENTS, {
      actor,
      subjectUserId: command.userId,
      sessionId: command.currentSessionId,
      context: command.context,
    });
    return operation.run(async () => {
      const user = await this.store.findUserById(command.userId);
      if (!user) {
        operation.fail('user_not_found');
        return { kind: 'rejected', reason: 'user_not_found' };
      }
      if (!(await this.hasher.verify(user.passwordHash, command.currentPassword))) {
        operation.fail('invalid_current_password');
        return { kind: 'rejected', reason: 'invalid_current_password' };
      }
      const newHash = await this.hasher.hash(command.newPassword);
      // The revoke-all joins this transaction: the new password and the end of every other
      // session commit together, or neither does.
      const revokedCount = await this.store.inTransaction(async (tx) => {
        await tx.setPasswordHash(command.userId, newHash);
        const revoked = await this.commandBus.execute(
          new RevokeAllUserSessions(command.userId, RevocationReasons.passwordChanged, actor, command.context, command.currentSessionId),
        );
        // The user was read above and users are never deleted; a rejection here is a bug, and rolls back.
        if (revoked.kind !== 'revoked') throw new Error(`The revoke-all of a password change was rejected: ${revoked.reason}`);
        await operation.succeedIn(tx, { count: revoked.revokedCount, sessionIds: revoked.sessionIds });
        return revoked.revokedCount;
      });
      return { kind: 'changed', revokedCount };
    });
  }
}
