import {
  AccessTokenGuard,
  type AuthenticatedSession,
  ChangePassword,
  ClientContext,
  CurrentSession,
  LoginUser,
  LogoutUser,
  OptionalAccessTokenGuard,
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
import { RateLimited, RateLimitedPerUser } from '@app/runtime';
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
  UseGuards,
} from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { invalidRequest, UuidParam } from '@app/platform';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import {
  ChangePasswordRequest,
  LoginRequest,
  MeResponse,
  RefreshTokenRequest,
  RegisteredResponse,
  RegisterRequest,
  ResetPasswordRequest,
  RevokeAllRequest,
  RevokedCountResponse,
  SessionListResponse,
  TokenPairResponse,
} from './dto/auth.dto';

/** The web app's sign-in and session routes. Every state change goes through a command. */
@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(
    private readonly commandBus: CommandBus,
    private readonly directory: SessionDirectory,
  ) {}

  @Post('register')
  @ApiOperation({ summary: 'Create an account' })
  @ApiResponse({ status: 201, type: RegisteredResponse })
  @ApiResponse({ status: 400, description: 'The email or the password is refused; the problem says why' })
  @ApiResponse({ status: 409, description: 'The email is already registered' })
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
  @ApiResponse({ status: 200, type: TokenPairResponse })
  @ApiResponse({
    status: 401,
    description: 'Unknown email, wrong password, or an email locked after too many failed logins (the same answer for all three)',
  })
  // Per IP only: a per-email limit would let anyone keep the owner out (the lockout policy bounds guesses per email).
  @RateLimited('none')
  async login(@Body() body: LoginRequest, @ClientContext() context: RequestContext): Promise<TokenPairResponse> {
    const outcome = await this.commandBus.execute(new LoginUser(body.email, body.password, context));
    if (outcome.kind === 'rejected') throw new UnauthorizedException('Invalid email or password');
    return toTokenResponse(outcome);
  }

  @Post('refresh')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Trade a refresh token for a new pair; the old refresh token stops working' })
  @ApiResponse({ status: 200, type: TokenPairResponse })
  @ApiResponse({ status: 401, description: 'Unknown, expired or revoked token, or its session has ended (problem code `invalid_grant`): sign in again' })
  @RateLimited('refreshToken')
  async refresh(@Body() body: RefreshTokenRequest, @ClientContext() context: RequestContext): Promise<TokenPairResponse> {
    const outcome = await this.commandBus.execute(new RefreshTokens(body.refreshToken, context));
    // code invalid_grant (RFC 6749 §5.2's name): the session is over or the token unknown, so the
    // client signs in again; the same answer whatever the reason, so it tells nothing about accounts.
    if (outcome.kind === 'rejected') throw new UnauthorizedException({ statusCode: 401, error: 'Unauthorized', message: 'The refresh token cannot be used', code: 'invalid_grant' });
    return toTokenResponse(outcome);
  }

  @Post('logout')
  @HttpCode(HttpStatus.NO_CONTENT)
  @UseGuards(OptionalAccessTokenGuard)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'End the session of a refresh token. Always 204 for a well-formed token; the outcome is audited' })
  @ApiResponse({ status: 204 })
  @RateLimited('refreshToken', { exemptLiveToken: true })
  async logout(@Body() body: RefreshTokenRequest, @Req() request: AuthenticatedRequest, @ClientContext() context: RequestContext): Promise<void> {
    await this.commandBus.execute(new LogoutUser(body.refreshToken, request.authenticated?.userId ?? null, context, request.authenticated?.sessionId ?? null));
  }

  @Get('me')
  @UseGuards(AccessTokenGuard)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Who the access token belongs to' })
  @ApiResponse({ status: 200, type: MeResponse })
  async me(@CurrentSession() session: AuthenticatedSession): Promise<MeResponse> {
    const user = await this.directory.findUser(session.userId);
    if (!user) throw new UnauthorizedException('The account no longer exists');
    return { userId: user.id, email: user.email, sessionId: session.sessionId };
  }

  @Get('sessions')
  @UseGuards(AccessTokenGuard)
  @ApiBearerAuth()
  @ApiOperation({ summary: "The caller's active sessions, newest first" })
  @ApiResponse({ status: 200, type: SessionListResponse })
  async sessions(@CurrentSession() session: AuthenticatedSession): Promise<SessionListResponse> {
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
  @HttpCode(HttpStatus.NO_CONTENT)
  @RateLimitedPerUser({ revocation: true })
  @UseGuards(AccessTokenGuard)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'End one of the caller’s sessions' })
  @ApiResponse({ status: 204 })
  @ApiResponse({ status: 404, description: 'Not an active session of the caller' })
  async revokeSession(
    @UuidParam('sessionId') sessionId: string,
    @CurrentSession() session: AuthenticatedSession,
    @ClientContext() context: RequestContext,
  ): Promise<void> {
    const outcome = await this.commandBus.execute(
      new RevokeSession(session.userId, sessionId, RevocationReasons.userRevoked, Actors.user(session.userId), context),
    );
    if (outcome.kind === 'rejected') throw new NotFoundException('No active session with this id');
  }

  @Post('sessions/revoke-all')
  @HttpCode(HttpStatus.OK)
  @RateLimitedPerUser({ revocation: true })
  @UseGuards(AccessTokenGuard)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Sign out everywhere, optionally except here' })
  @ApiResponse({ status: 200, type: RevokedCountResponse })
  async revokeAll(
    @Body() body: RevokeAllRequest,
    @CurrentSession() session: AuthenticatedSession,
    @ClientContext() context: RequestContext,
  ): Promise<RevokedCountResponse> {
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
    return { revokedCount: outcome.revokedCount };
  }

  @Post('password/reset')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Set a new password with the one-time token an administrator issued; ends any session. No access token needed' })
  @ApiResponse({ status: 204 })
  @ApiResponse({ status: 400, description: 'The new password is refused by the password policy; the problem says why (the token stays usable)' })
  @ApiResponse({ status: 401, description: 'Unknown, used or expired reset token' })
  // Per client IP (the body names no account); the token itself is 256 random bits.
  @RateLimited('refreshToken')
  async resetPassword(@Body() body: ResetPasswordRequest, @ClientContext() context: RequestContext): Promise<void> {
    const outcome = await this.commandBus.execute(new ResetPassword(body.resetToken, body.newPassword, context));
    if (outcome.kind === 'reset') return;
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
  @HttpCode(HttpStatus.NO_CONTENT)
  @RateLimitedPerUser()
  @UseGuards(AccessTokenGuard)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Change the password; every other session ends' })
  @ApiResponse({ status: 204 })
  @ApiResponse({ status: 400, description: 'The new password is refused by the password policy; the problem says why' })
  @ApiResponse({ status: 403, description: 'The current password is wrong' })
  async changePassword(
    @Body() body: ChangePasswordRequest,
    @CurrentSession() session: AuthenticatedSession,
    @ClientContext() context: RequestContext,
  ): Promise<void> {
    const outcome = await this.commandBus.execute(
      new ChangePassword(session.userId, session.sessionId, body.currentPassword, body.newPassword, context),
    );
    if (outcome.kind === 'changed') return;
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
