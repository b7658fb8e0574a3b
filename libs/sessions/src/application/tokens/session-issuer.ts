import { Inject, Injectable } from '@nestjs/common';
import { v7 as uuidv7 } from 'uuid';
import { newRefreshToken } from '../../domain/refresh-token';
import { RequestContext } from '../../domain/request-context';
import { SessionLifetimes } from '../../domain/session-rules';
import { ACCESS_TOKENS, AccessTokens } from '../ports/access-token.port';
import { Transaction } from '../ports/unit-of-work.port';
import { SESSION_LIFETIMES } from '../settings';
import { ConsoleSessionGrant, TokenPair } from './token-pair';

/** Opens sessions and issues their tokens; shared by login and refresh. */
@Injectable()
export class SessionIssuer {
  constructor(
    @Inject(SESSION_LIFETIMES) private readonly lifetimes: SessionLifetimes,
    @Inject(ACCESS_TOKENS) private readonly accessTokens: AccessTokens,
  ) {}

  async openSession(tx: Transaction, userId: string, context: RequestContext, now: Date): Promise<TokenPair> {
    const sessionId = uuidv7();
    await tx.sessions.insert({
      id: sessionId,
      userId,
      createdAt: now,
      expiresAt: new Date(now.getTime() + this.lifetimes.sessionTtlSeconds * 1000),
      ipAddress: context.ipAddress,
      userAgent: context.userAgent,
    });
    return this.issueTokens(tx, userId, sessionId, now, null);
  }

  /**
   * Opens an admin console session: absolute lifetime consoleSessionTtlSeconds, one refresh token
   * for as long (the cookie's credential), no access token. The login counts as a reauthentication.
   */
  async openConsoleSession(tx: Transaction, userId: string, context: RequestContext, now: Date): Promise<ConsoleSessionGrant> {
    const sessionId = uuidv7();
    const expiresAt = new Date(now.getTime() + this.lifetimes.consoleSessionTtlSeconds * 1000);
    await tx.sessions.insert({
      id: sessionId,
      userId,
      createdAt: now,
      expiresAt,
      ipAddress: context.ipAddress,
      userAgent: context.userAgent,
      kind: 'console',
      reauthenticatedAt: now,
    });
    const credential = newRefreshToken();
    await tx.sessions.insertRefreshToken({ id: uuidv7(), sessionId, userId, tokenHash: credential.hash, issuedAt: now, expiresAt, parentId: null });
    return { userId, sessionId, credential: credential.token, expiresAt, reauthenticatedAt: now };
  }

  /**
   * A new refresh token for the session, valid for the session's lifetime from now, and a new
   * access token. parentId is the refresh token it replaces (null for a new session).
   */
  async issueTokens(tx: Transaction, userId: string, sessionId: string, now: Date, parentId: string | null): Promise<TokenPair> {
    const refresh = newRefreshToken();
    await tx.sessions.insertRefreshToken({
      id: uuidv7(),
      sessionId,
      userId,
      tokenHash: refresh.hash,
      issuedAt: now,
      expiresAt: new Date(now.getTime() + this.lifetimes.sessionTtlSeconds * 1000),
      parentId,
    });
    const access = await this.accessTokens.issue({ userId, sessionId });
    return { userId, sessionId, accessToken: access.token, refreshToken: refresh.token, tokenType: 'Bearer', expiresIn: access.expiresIn };
  }
}
