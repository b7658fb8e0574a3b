import {
  type AuthenticatedSession,
  ChangePassword,
  ClientContext,
  CurrentSession,
  LoginUser,
  LogoutUser,
  RefreshTokens,
  RegisterUser,
  type RequestContext,
  ResetPassword,
  RevocationReasons,
  RevokeAllUserSessions,
  RevokeSession,
  SessionDirectory,
  type TokenPair,
  Actors,
  type AuthenticatedRequest,
} from '@app/sessions';
import {
  Authenticated,
  loginRefused,
  OptionallyAuthenticated,
  RateLimited,
  RateLimitedPerUser,
  RefusesLogins,
  RevocationReceiptResponse,
  SESSION_LIMIT_REACHED_DESCRIPTION,
  toReceiptResponse,
} from '@app/runtime';
import {
  Body,
  ConflictException,
  Controller,
  Delete,
  ForbiddenException,
  Get,
  HttpCode,
  HttpStatus,
  NotFoundException,
  Post,
  Req,
  UnauthorizedException,
} from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { AccountEmails } from './account-emails';
import { ApiProblem, invalidRequest, UuidParam } from '@app/platform';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  ChangePasswordRequest,
  LoginRequest,
  MeResponse,
  RefreshTokenRequest,
  RegisteredResponse,
  RegisterRequest,
  ResetPasswordRequest,
  RevokeAllRequest,
  SessionListResponse,
  TokenPairResponse,
} from './dto/auth.dto';

/** The web app's sign-in and session routes. Every state change goes through a command. */
@ApiTags('auth')
// Every route reads or writes PostgreSQL (and the cache).
@ApiProblem(503)
@Controller('auth')
export class AuthController {
  constructor(
    private readonly commandBus: CommandBus,
    private readonly directory: SessionDirectory,
    private readonly accountEmails: AccountEmails,
  ) {}

  @Post('register')
  @ApiOperation({ summary: 'Create an account' })
  @ApiCreatedResponse({ type: RegisteredResponse, description: 'The account exists; sign in with POST /auth/login' })
  @ApiProblem(
    400,
    'A field is invalid, or the password fails the policy, or the email holds invisible, bidi-control or mixed-script characters; `errors` says which and why',
  )
  @ApiProblem(409, 'The email is already registered')
  @RateLimited('email')
  async register(@Body() body: RegisterRequest, @ClientContext() context: RequestContext): Promise<RegisteredResponse> {
    const outcome = await this.commandBus.execute(new RegisterUser(body.email, body.password, context));
    if (outcome.kind === 'registered') return { userId: outcome.userId, email: outcome.email };
    switch (outcome.reason) {
      case 'email_taken':
        throw new ConflictException('This email is already registered');
      case 'invalid_email':
        throw fieldProblem('email', outcome.problem);
      case 'weak_password':
        throw fieldProblem('password', outcome.problem);
      default:
        assertNever(outcome);
    }
  }

  @Post('login')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Sign in: opens a session and returns its first token pair' })
  @ApiOkResponse({ type: TokenPairResponse, description: 'A new session and its first token pair' })
  @RefusesLogins()
  @ApiProblem(409, SESSION_LIMIT_REACHED_DESCRIPTION)
  // Per IP only: a per-email limit would let anyone keep the owner out (the lockout policy bounds guesses per email).
  @RateLimited('none')
  async login(@Body() body: LoginRequest, @ClientContext() context: RequestContext): Promise<TokenPairResponse> {
    const outcome = await this.commandBus.execute(new LoginUser(body.email, body.password, context));
    if (outcome.kind === 'rejected') throw loginRefused(outcome);
    return toTokenResponse(outcome);
  }

  @Post('refresh')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Trade a refresh token for a new pair; the old refresh token stops working' })
  @ApiOkResponse({ type: TokenPairResponse, description: 'The same session, new tokens' })
  @ApiProblem(401, 'Unknown, expired, revoked or reused token, or its session has ended (`code: invalid_grant`): sign in again')
  @RateLimited('refreshToken')
  async refresh(@Body() body: RefreshTokenRequest, @ClientContext() context: RequestContext): Promise<TokenPairResponse> {
    const outcome = await this.commandBus.execute(new RefreshTokens(body.refreshToken, context));
    // code invalid_grant (RFC 6749 §5.2's name): the session is over or the token unknown, so the
    // client signs in again; the same answer whatever the reason, so it tells nothing about accounts.
    if (outcome.kind === 'rejected')
      throw new UnauthorizedException({ statusCode: 401, error: 'Unauthorized', message: 'The refresh token cannot be used', code: 'invalid_grant' });
    return toTokenResponse(outcome);
  }

  @Post('logout')
  @HttpCode(HttpStatus.OK)
  @OptionallyAuthenticated()
  @ApiOperation({ summary: 'End the session of a refresh token. Always 200 with a receipt for a well-formed token; the outcome is audited' })
  @ApiOkResponse({
    type: RevocationReceiptResponse,
    description:
      "The refresh token's session, and the valid Bearer's own, have ended: the receipt names them (revokedCount 0 and sessionIds [] when there was nothing to end: an unknown token, another user's, or one whose session had ended)",
  })
  @RateLimited('refreshToken', { exemptLiveToken: true })
  async logout(
    @Body() body: RefreshTokenRequest,
    @Req() request: AuthenticatedRequest,
    @ClientContext() context: RequestContext,
  ): Promise<RevocationReceiptResponse> {
    const outcome = await this.commandBus.execute(
      new LogoutUser(body.refreshToken, request.authenticated?.userId ?? null, context, request.authenticated?.sessionId ?? null),
    );
    return toReceiptResponse(outcome);
  }

  @Get('me')
  @Authenticated()
  @ApiOperation({ summary: 'Who the access token belongs to' })
  @ApiOkResponse({ type: MeResponse, description: 'The account and the session of the access token' })
  async me(@CurrentSession() session: AuthenticatedSession): Promise<MeResponse> {
    const email = await this.accountEmails.of(session.userId);
    if (email === null) throw new UnauthorizedException('The account no longer exists');
    return { userId: session.userId, email, sessionId: session.sessionId };
  }

  @Get('sessions')
  @Authenticated()
  @ApiOperation({ summary: "The caller's active sessions, newest first" })
  @ApiOkResponse({ type: SessionListResponse, description: 'The active sessions; `current` marks this one' })
  async listSessions(@CurrentSession() session: AuthenticatedSession): Promise<SessionListResponse> {
    const sessions = await this.directory.listSessions(session.userId);
    return {
      sessions: sessions.map((s) => ({
        id: s.id,
        createdAt: s.createdAt,
        lastSeenAt: s.lastSeenAt,
        ipAddress: s.ipAddress,
        userAgent: s.userAgent,
        current: s.id === session.sessionId,
      })),
    };
  }

  @Delete('sessions/:sessionId')
  @HttpCode(HttpStatus.OK)
  @RateLimitedPerUser({ revocation: true })
  @Authenticated()
  @ApiOperation({ summary: 'End one of the caller’s sessions' })
  @ApiOkResponse({ type: RevocationReceiptResponse, description: 'The session has ended: its receipt' })
  @ApiProblem(404, 'Not an active session of the caller')
  async revokeSession(
    @UuidParam('sessionId') sessionId: string,
    @CurrentSession() session: AuthenticatedSession,
    @ClientContext() context: RequestContext,
  ): Promise<RevocationReceiptResponse> {
    const outcome = await this.commandBus.execute(
      new RevokeSession(session.userId, sessionId, RevocationReasons.userRevoked, Actors.user(session.userId), context),
    );
    if (outcome.kind === 'rejected') throw new NotFoundException('No active session with this id');
    return toReceiptResponse(outcome);
  }

  @Post('sessions/revoke-all')
  @HttpCode(HttpStatus.OK)
  @RateLimitedPerUser({ revocation: true })
  @Authenticated()
  @ApiOperation({ summary: 'Sign out everywhere, optionally except here' })
  @ApiOkResponse({ type: RevocationReceiptResponse, description: 'The sessions that ended (revokedCount: how many), and their receipt' })
  async revokeAll(
    @Body() body: RevokeAllRequest,
    @CurrentSession() session: AuthenticatedSession,
    @ClientContext() context: RequestContext,
  ): Promise<RevocationReceiptResponse> {
    const outcome = await this.commandBus.execute(
      new RevokeAllUserSessions(
        session.userId,
        RevocationReasons.userRevokedAll,
        Actors.user(session.userId),
        context,
        body.keepCurrent ? session.sessionId : null,
      ),
    );
    if (outcome.kind === 'rejected') throw new UnauthorizedException('The account no longer exists');
    return toReceiptResponse(outcome);
  }

  @Post('password/reset')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Set a new password with the one-time token an administrator issued; ends any session. No access token needed' })
  @ApiOkResponse({ type: RevocationReceiptResponse, description: 'The password is set and every session of the account has ended: their receipt' })
  @ApiProblem(400, 'A field is invalid, or the new password fails the password policy; `errors` says why (the token stays usable)')
  @ApiProblem(401, 'Unknown, used or expired reset token')
  // Per client IP (the body names no account); the token itself is 256 random bits.
  @RateLimited('refreshToken')
  async resetPassword(@Body() body: ResetPasswordRequest, @ClientContext() context: RequestContext): Promise<RevocationReceiptResponse> {
    const outcome = await this.commandBus.execute(new ResetPassword(body.resetToken, body.newPassword, context));
    if (outcome.kind === 'reset') return toReceiptResponse(outcome);
    switch (outcome.reason) {
      case 'reset_token_invalid':
        throw new UnauthorizedException('The reset token cannot be used');
      case 'weak_password':
        throw fieldProblem('newPassword', outcome.problem);
      default:
        assertNever(outcome);
    }
  }

  @Post('password')
  @HttpCode(HttpStatus.OK)
  @RateLimitedPerUser()
  @Authenticated()
  @ApiOperation({ summary: 'Change the password; every other session ends' })
  @ApiOkResponse({ type: RevocationReceiptResponse, description: 'The password is changed and every other session has ended: their receipt (not this one)' })
  @ApiProblem(400, 'A field is invalid, or the new password fails the password policy; `errors` says why')
  @ApiProblem(403, 'The current password is wrong (counted with failed logins: past the lockout threshold, the session that guesses is ended)')
  async changePassword(
    @Body() body: ChangePasswordRequest,
    @CurrentSession() session: AuthenticatedSession,
    @ClientContext() context: RequestContext,
  ): Promise<RevocationReceiptResponse> {
    const outcome = await this.commandBus.execute(new ChangePassword(session.userId, session.sessionId, body.currentPassword, body.newPassword, context));
    if (outcome.kind === 'changed') return toReceiptResponse(outcome);
    switch (outcome.reason) {
      case 'invalid_current_password':
        throw new ForbiddenException('The current password is wrong');
      case 'user_not_found':
        throw new UnauthorizedException('The account no longer exists');
      case 'weak_password':
        throw fieldProblem('newPassword', outcome.problem);
      default:
        assertNever(outcome);
    }
  }
}

function toTokenResponse(pair: TokenPair): TokenPairResponse {
  return {
    accessToken: pair.accessToken,
    refreshToken: pair.refreshToken,
    tokenType: pair.tokenType,
    expiresIn: pair.expiresIn,
    sessionId: pair.sessionId,
  };
}

/** A 400 problem naming the field and why, in the shape of a validation error. */
function fieldProblem(field: string, problem: string): Error {
  return invalidRequest(`${field} ${problem}`, [{ field, messages: [`${field} ${problem}`] }]);
}

function assertNever(value: never): never {
  throw new Error(`Unhandled outcome: ${JSON.stringify(value)}`);
}
