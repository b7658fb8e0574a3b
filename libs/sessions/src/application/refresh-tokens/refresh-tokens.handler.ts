import { Inject } from '@nestjs/common';
import { CommandBus, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Actors } from '../../domain/actor';
import { RefreshTokenState } from '../../domain/records';
import { hashRefreshToken, REFRESH_TOKEN_PATTERN } from '../../domain/refresh-token';
import { RequestContext } from '../../domain/request-context';
import { RevocationReasons } from '../../domain/revocation-reason';
import { CLOCK, Clock } from '../ports/clock.port';
import { SESSION_RECORDS, SessionRecords } from '../ports/session-records.port';
import { UNIT_OF_WORK, UnitOfWork } from '../ports/unit-of-work.port';
import { RevokeSession } from '../revoke-session/revoke-session.command';
import { receiptOf } from '../revocation/revocation-receipt';
import { AuditedOperation, AuditTrail } from '../audit/audit-trail';
import { REFRESH_POLICY, RefreshPolicy } from '../settings';
import { SessionIssuer } from '../tokens/session-issuer';
import { RefreshOutcome, RefreshRejection, RefreshTokens } from './refresh-tokens.command';
import { REFRESH_EVENTS } from './refresh-tokens.events';
import { assertValidInput, Checks, InputRules } from '../validation/command-input';

/**
 * Rotation with reuse detection. Every refresh retires the token it used; presenting a
 * retired token again means two parties hold it (a stolen copy, most likely), so the session
 * is ended, except when the same client retries the token it rotated a moment ago (several
 * tabs refreshing at once), which gets a new pair in the same session.
 */
const INPUT: InputRules<RefreshTokens> = {
  refreshToken: Checks.pattern(REFRESH_TOKEN_PATTERN, 'a refresh token issued by this service (43 base64url characters)'),
  context: Checks.context(),
};

@CommandHandler(RefreshTokens)
export class RefreshTokensHandler implements ICommandHandler<RefreshTokens> {
  private readonly graceMs: number;

  constructor(
    @Inject(UNIT_OF_WORK) private readonly unitOfWork: UnitOfWork,
    @Inject(SESSION_RECORDS) private readonly sessions: SessionRecords,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(REFRESH_POLICY) policy: RefreshPolicy,
    private readonly trail: AuditTrail,
    private readonly issuer: SessionIssuer,
    private readonly commandBus: CommandBus,
  ) {
    this.graceMs = policy.reuseGraceSeconds * 1000;
  }

  async execute(command: RefreshTokens): Promise<RefreshOutcome> {
    const operation = this.trail.begin(REFRESH_EVENTS, {
      actor: Actors.anonymous(),
      subjectUserId: null,
      context: command.context,
    });
    return operation.run(async () => {
      assertValidInput(command, INPUT);
      const tokenHash = hashRefreshToken(command.refreshToken);
      const now = this.clock.now();
      // The token is retired and the session checked in the same statement, so a session
      // revoked a moment earlier can never be refreshed, and one token refreshes at most once.
      const tokens = await this.unitOfWork.inTransaction(async (tx) => {
        const used = await tx.sessions.consumeRefreshToken(tokenHash, now, command.context);
        if (!used) return null;
        const issued = await this.issuer.issueTokens(tx, used.userId, used.sessionId, now, used.tokenId);
        await operation.succeedIn(tx, { actor: Actors.user(used.userId), subjectUserId: used.userId, sessionId: used.sessionId });
        return issued;
      });
      if (tokens) return { kind: 'refreshed', ...tokens };

      const token = await this.sessions.describeRefreshToken(tokenHash);
      if (token && this.isGraceRetry(token, command.context, now)) {
        const retried = await this.unitOfWork.inTransaction(async (tx) => {
          if (!(await tx.sessions.touchActive(token.sessionId, now))) return null;
          // One live refresh token per session: the replacement issued to the first request is
          // retired (as rotated away, so presenting it later is reuse), not left as a second chain.
          await tx.sessions.retireLiveRefreshTokens(token.sessionId, now, command.context);
          const issued = await this.issuer.issueTokens(tx, token.userId, token.sessionId, now, token.tokenId);
          await operation.succeedIn(tx, {
            actor: Actors.user(token.userId),
            subjectUserId: token.userId,
            sessionId: token.sessionId,
            details: { graceRetry: true },
          });
          return issued;
        });
        if (retried) return { kind: 'refreshed', ...retried };
      }
      if (token && this.isReuse(token, now)) return this.endReusedSession(operation, token, command.context);
      const reason = this.whyNot(token, now);
      operation.fail(reason, { subjectUserId: token?.userId ?? null, sessionId: token?.sessionId ?? null });
      return { kind: 'rejected', reason };
    });
  }

  /** The same client presenting, within the grace, the token whose replacement is still live. */
  private isGraceRetry(token: RefreshTokenState, context: RequestContext, now: Date): boolean {
    return (
      token.rotatedAt !== null &&
      token.sessionRevokedAt === null &&
      token.hasLiveChild &&
      now.getTime() - token.rotatedAt.getTime() <= this.graceMs &&
      token.rotatedIpAddress === context.ipAddress &&
      token.rotatedUserAgent === context.userAgent
    );
  }

  /** A token rotated away, presented again while its session is alive. */
  private isReuse(token: RefreshTokenState, now: Date): boolean {
    return token.rotatedAt !== null && token.sessionRevokedAt === null && token.sessionExpiresAt > now;
  }

  private async endReusedSession(operation: AuditedOperation, token: RefreshTokenState, context: RequestContext): Promise<RefreshOutcome> {
    const details = {
      tokenId: token.tokenId,
      rotatedAt: token.rotatedAt?.toISOString(),
      original: { ipAddress: token.rotatedIpAddress, userAgent: token.rotatedUserAgent },
      reuse: { ipAddress: context.ipAddress, userAgent: context.userAgent },
    };
    const ended = await this.commandBus.execute(
      new RevokeSession(token.userId, token.sessionId, RevocationReasons.refreshTokenReuse, Actors.system(), context, details),
    );
    operation.fail(RevocationReasons.refreshTokenReuse, { subjectUserId: token.userId, sessionId: token.sessionId, details });
    return { kind: 'rejected', reason: 'refresh_token_reuse', revocation: ended.kind === 'revoked' ? receiptOf(ended) : null };
  }

  private whyNot(token: RefreshTokenState | null, now: Date): Exclude<RefreshRejection, 'refresh_token_reuse'> {
    if (!token) return 'token_not_found';
    if (token.sessionKind === 'console') return 'console_session';
    if (token.sessionRevokedAt !== null || token.sessionExpiresAt <= now) return 'session_inactive';
    if (token.revokedAt !== null) return 'token_revoked';
    return 'token_expired';
  }
}
