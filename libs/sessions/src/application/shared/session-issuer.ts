import { Inject, Injectable } from '@nestjs/common';
import { v7 as uuidv7 } from 'uuid';
import { newRefreshToken } from '../../domain/refresh-token';
import { RequestContext } from '../../domain/request-context';
import { SESSIONS_OPTIONS, ResolvedSessionsOptions } from '../../sessions.options';
import { ACCESS_TOKENS, AccessTokens } from '../ports/access-token.port';
import { SessionTransaction } from '../ports/session-store.port';
import { TokenPair } from './token-pair';

/** Opens sessions and issues their tokens; shared by login and refresh. */
@Injectable()
export class SessionIssuer {
  constructor(
    @Inject(SESSIONS_OPTIONS) private readonly options: ResolvedSessionsOptions,
    @Inject(ACCESS_TOKENS) private readonly accessTokens: AccessTokens,
  ) {}

  async openSession(tx: SessionTransaction, userId: string, context: RequestContext, now: Date): Promise<TokenPair> {
    const sessionId = uuidv7();
    await tx.insertSession({
      id: sessionId,
      userId,
      createdAt: now,
      expiresAt: new Date(now.getTime() + this.options.lifetimes.sessionTtlSeconds * 1000),
      ipAddress: context.ipAddress,
      userAgent: context.userAgent,
    });
    return this.issueTokens(tx, userId, sessionId, now, null);
  }

  /**
   * A new refresh token for the session, valid for the session's lifetime from now, and a new
   * access token. parentId is the refresh token it replaces (null for a new session).
   */
  async issueTokens(tx: SessionTransaction, userId: string, sessionId: string, now: Date, parentId: string | null): Promise<TokenPair> {
    const refresh = newRefreshToken();
    await tx.insertRefreshToken({
      id: uuidv7(),
      sessionId,
      userId,
      tokenHash: refresh.hash,
      issuedAt: now,
      expiresAt: new Date(now.getTime() + this.options.lifetimes.sessionTtlSeconds * 1000),
      parentId,
    });
    const access = await this.accessTokens.issue({ userId, sessionId });
    return { userId, sessionId, accessToken: access.token, refreshToken: refresh.token, tokenType: 'Bearer', expiresIn: access.expiresIn };
  }
}
