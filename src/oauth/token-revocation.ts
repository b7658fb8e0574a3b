import {
  Actors,
  type AuthenticatedSession,
  LogoutUser,
  REFRESH_TOKEN_PATTERN,
  type RequestContext,
  RevocationReasons,
  RevokeSession,
  SessionAuthenticator,
} from '@app/sessions';
import { Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { createHash } from 'node:crypto';

/** The token types this server revokes, by their RFC 7009 §2.1 hint names. */
export const TOKEN_TYPE_HINTS = ['refresh_token', 'access_token'] as const;
export type TokenTypeHint = (typeof TOKEN_TYPE_HINTS)[number];

export function isTokenTypeHint(value: string): value is TokenTypeHint {
  return (TOKEN_TYPE_HINTS as readonly string[]).includes(value);
}

/**
 * RFC 7009 revocation: a refresh token ends its session as a logout does (LogoutUser), a valid
 * access token ends its own session as its user would (RevokeSession). A token that ends nothing (unknown, expired, malformed, already revoked) still
 * costs one refresh-token lookup, audited like any logout that ends nothing, so neither the
 * answer nor its time tells which it was. An outage throws, for the filter's 503.
 */
@Injectable()
export class TokenRevocation {
  constructor(
    private readonly commandBus: CommandBus,
    private readonly authenticator: SessionAuthenticator,
  ) {}

  async revoke(token: string, context: RequestContext): Promise<void> {
    // The two formats are disjoint (43 base64url characters; a JWT has dots), so the hint, which
    // only orders the search (§2.1), never changes where a token goes: a refresh-shaped token is
    // looked up as one, found or not, and is never an access token.
    if (REFRESH_TOKEN_PATTERN.test(token)) return this.endByRefreshToken(token, context);
    const session = await this.authenticator.authenticate(token);
    if (session) return this.endByAccessToken(session, context);
    await this.endByRefreshToken(noSuchRefreshToken(token), context);
  }

  private async endByRefreshToken(refreshToken: string, context: RequestContext): Promise<void> {
    // Revoked or rejected, the client is told the same (RFC 7009 §2.2): the audit trail says which.
    await this.commandBus.execute(new LogoutUser(refreshToken, null, context));
  }

  private async endByAccessToken(session: AuthenticatedSession, context: RequestContext): Promise<void> {
    // Rejected only when a concurrent revocation ended the session first: the same 200.
    await this.commandBus.execute(new RevokeSession(session.userId, session.sessionId, RevocationReasons.userRevoked, Actors.user(session.userId), context));
  }
}

/**
 * A well-formed refresh token that no one holds, for a token that is neither kind: derived from it
 * (SHA-256, as base64url) so the lookup walks the index as an unknown token's does. Matching a
 * live token would take a SHA-256 preimage of its 256 random bits.
 */
function noSuchRefreshToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url');
}
