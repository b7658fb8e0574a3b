import {
  type AuthenticatedSession,
  ClientContext,
  CurrentSession,
  LoginUser,
  LogoutUser,
  ReauthenticateSession,
  type RequestContext,
  SessionDirectory,
} from '@app/sessions';
import { loginRefused, RateLimited, RateLimitedPerUser, RefusesLogins } from '@app/runtime';
import { ApiProblem } from '@app/platform';
import { Body, Controller, Get, HttpCode, HttpStatus, Post, Req, Res, UnauthorizedException } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ConsoleLoginRequest, ConsoleSessionResponse, ReauthenticatedResponse, ReauthenticateRequest } from '../dto/console-auth.dto';
import { ConsoleAdminsOnly } from './console-access';
import { clearConsoleCookie, setConsoleCookie } from './console-cookie';
import { CONSOLE_SESSION_REQUIRED } from './console.guard';
import { type ConsoleSession, CurrentConsoleSession } from './console-request';
import { ConsoleCsrfTokens } from './csrf-tokens';
import { StepUp } from './step-up';
import { AccessTokenLifetime } from '../sessions/access-token-lifetime';

const NO_CONSOLE_SESSION = () =>
  new UnauthorizedException({ statusCode: 401, error: 'Unauthorized', message: CONSOLE_SESSION_REQUIRED, code: 'console_session_invalid' });

/**
 * Signing in on the console itself: a console session (shorter, an HttpOnly cookie the page
 * never reads, a CSRF token it keeps in memory), signing out, and entering the password again
 * for the step-up of destructive actions.
 */
@ApiTags('console-auth')
@ApiProblem(503)
@Controller('admin/auth')
export class ConsoleAuthController {
  constructor(
    private readonly commandBus: CommandBus,
    private readonly directory: SessionDirectory,
    private readonly csrf: ConsoleCsrfTokens,
    private readonly stepUp: StepUp,
    private readonly accessTokenLifetime: AccessTokenLifetime,
  ) {}

  @Post('login')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary:
      'Sign in to the console (administrators only): opens a console session, sets its cookie (HttpOnly, SameSite=Strict, Path=/; Secure and named __Host-sessions_console over HTTPS) and answers its CSRF token',
  })
  @ApiOkResponse({ type: ConsoleSessionResponse, description: 'The console session; its credential is only in the Set-Cookie header' })
  @RefusesLogins(
    'Unknown email, wrong password, an account that is not an administrator’s, a locked or delayed login, a disabled account or one that must reset its password (the same answer for all, and as POST /auth/login answers)',
  )
  // As the web API's login: per IP only (the lockout policy bounds guesses per email).
  @RateLimited('none')
  async login(
    @Body() body: ConsoleLoginRequest,
    @ClientContext() context: RequestContext,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ConsoleSessionResponse> {
    const outcome = await this.commandBus.execute(new LoginUser(body.email, body.password, context, 'console'));
    if (outcome.kind === 'rejected') throw loginRefused(outcome);
    setConsoleCookie(request, reply, outcome.credential, outcome.expiresAt);
    return this.describe(outcome.userId, outcome.sessionId, outcome.expiresAt, outcome.reauthenticatedAt);
  }

  @Get('session')
  @ConsoleAdminsOnly()
  @ApiOperation({ summary: 'The console session of the cookie, as the sign-in answered it (for a page reload)' })
  @ApiOkResponse({ type: ConsoleSessionResponse, description: 'The console session' })
  async session(@CurrentConsoleSession() session: ConsoleSession | undefined): Promise<ConsoleSessionResponse> {
    if (!session) throw NO_CONSOLE_SESSION();
    return this.describe(session.userId, session.sessionId, session.expiresAt, session.reauthenticatedAt);
  }

  @Post('logout')
  @HttpCode(HttpStatus.NO_CONTENT)
  @RateLimitedPerUser({ revocation: true })
  @ConsoleAdminsOnly()
  @ApiOperation({ summary: 'Sign out of the console: ends the console session (audited as a logout) and clears its cookie' })
  @ApiNoContentResponse({ description: 'The console session has ended' })
  async logout(
    @CurrentConsoleSession() session: ConsoleSession | undefined,
    @ClientContext() context: RequestContext,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<void> {
    if (!session) throw NO_CONSOLE_SESSION();
    // The same command as the web API's logout: the session's one refresh token is the cookie's credential.
    await this.commandBus.execute(new LogoutUser(session.credential, session.userId, context, session.sessionId));
    clearConsoleCookie(request, reply);
  }

  @Post('reauthenticate')
  @HttpCode(HttpStatus.OK)
  @RateLimitedPerUser()
  @ConsoleAdminsOnly()
  @ApiOperation({
    summary:
      'Enter the password again (audited): for ADMIN_REAUTH_WINDOW_SECONDS the session may act on another administrator or on several users. Cookie or Bearer alike',
  })
  @ApiOkResponse({ type: ReauthenticatedResponse, description: 'Recorded on the caller’s session' })
  @ApiProblem(
    401,
    'The password is wrong (`code: reauthentication_failed`; counted with failed logins: past the lockout threshold the session is ended), or the credentials are not valid',
  )
  async reauthenticate(
    @Body() body: ReauthenticateRequest,
    @CurrentSession() caller: AuthenticatedSession,
    @ClientContext() context: RequestContext,
  ): Promise<ReauthenticatedResponse> {
    const outcome = await this.commandBus.execute(new ReauthenticateSession(caller.userId, caller.sessionId, body.password, context));
    if (outcome.kind === 'reauthenticated') return { reauthenticatedUntil: this.stepUp.until(outcome.reauthenticatedAt) };
    switch (outcome.reason) {
      case 'invalid_password':
      case 'session_inactive':
      case 'user_not_found':
        throw new UnauthorizedException({ statusCode: 401, error: 'Unauthorized', message: 'The password is wrong', code: 'reauthentication_failed' });
      default:
        return assertNever(outcome);
    }
  }

  private async describe(userId: string, sessionId: string, expiresAt: Date, reauthenticatedAt: Date | null): Promise<ConsoleSessionResponse> {
    const user = await this.directory.findUser(userId);
    // Users are never deleted; the guard (or the login's transaction) has just read this one.
    if (!user) throw NO_CONSOLE_SESSION();
    return {
      user: { id: user.id, email: user.email, role: user.role },
      sessionId,
      expiresAt,
      csrfToken: this.csrf.tokenFor(sessionId),
      reauthenticatedUntil: reauthenticatedAt && this.stepUp.until(reauthenticatedAt),
      accessTokenTtlSeconds: this.accessTokenLifetime.seconds,
    };
  }
}

function assertNever(value: never): never {
  throw new Error(`Unhandled outcome: ${String(value)}`);
}
