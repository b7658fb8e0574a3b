import { Inject } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Actors } from '../../domain/actor';
import { hashRefreshToken } from '../../domain/refresh-token';
import { CLOCK, Clock } from '../ports/clock.port';
import { SESSION_STORE, SessionStore } from '../ports/session-store.port';
import { AuditTrail } from '../shared/audit-trail';
import { SessionIssuer } from '../shared/session-issuer';
import { RefreshOutcome, RefreshRejection, RefreshTokens } from './refresh-tokens.command';
import { REFRESH_EVENTS } from './refresh-tokens.events';

@CommandHandler(RefreshTokens)
export class RefreshTokensHandler implements ICommandHandler<RefreshTokens> {
  constructor(
    @Inject(SESSION_STORE) private readonly store: SessionStore,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly trail: AuditTrail,
    private readonly issuer: SessionIssuer,
  ) {}

  async execute(command: RefreshTokens): Promise<RefreshOutcome> {
    const operation = this.trail.begin(REFRESH_EVENTS, {
      actor: Actors.anonymous(),
      subjectUserId: null,
      context: command.context,
    });
    return operation.run(async () => {
      const tokenHash = hashRefreshToken(command.refreshToken);
      const now = this.clock.now();
      // The token is retired and the session checked in the same statement, so a session
      // revoked a moment earlier can never be refreshed, and one token refreshes at most once.
      const tokens = await this.store.inTransaction(async (tx) => {
        const used = await tx.consumeRefreshToken(tokenHash, now, command.context);
        if (!used) return null;
        const issued = await this.issuer.issueTokens(tx, used.userId, used.sessionId, now);
        await operation.succeedIn(tx, { actor: Actors.user(used.userId), subjectUserId: used.userId, sessionId: used.sessionId });
        return issued;
      });
      if (!tokens) {
        const reason = await this.whyNot(tokenHash, now);
        operation.fail(reason.reason, { subjectUserId: reason.userId, sessionId: reason.sessionId });
        return { kind: 'rejected', reason: reason.reason };
      }
      return { kind: 'refreshed', ...tokens };
    });
  }

  private async whyNot(tokenHash: Buffer, now: Date): Promise<{ reason: RefreshRejection; userId: string | null; sessionId: string | null }> {
    const token = await this.store.describeRefreshToken(tokenHash);
    if (!token) return { reason: 'token_not_found', userId: null, sessionId: null };
    const about = { userId: token.userId, sessionId: token.sessionId };
    if (token.sessionRevokedAt !== null || token.sessionExpiresAt <= now) return { reason: 'session_inactive', ...about };
    if (token.revokedAt !== null) return { reason: 'token_revoked', ...about };
    return { reason: 'token_expired', ...about };
  }
}
