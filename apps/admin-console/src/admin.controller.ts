import {
  Actors,
  type AuthenticatedSession,
  ChangeUserRole,
  ClientContext,
  CurrentSession,
  DisableUser,
  EnableUser,
  RequirePasswordReset,
  type RequestContext,
  RevokeAllUserSessions,
  RevokeSession,
  SessionDirectory,
  type SessionRecord,
} from '@app/sessions';
import { RateLimitedPerUser, RevocationReceiptResponse, toReceiptResponse } from '@app/runtime';
import { ConsoleAdminsOnly } from './console-auth/console-access';
import { StepUp, StepUpRequired } from './console-auth/step-up';
import { ApiProblem, ProblemException, UuidParam } from '@app/platform';
import { applyDecorators, Body, Controller, Delete, Get, HttpCode, HttpStatus, NotFoundException, Post, Put, Query } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  AdminReasonRequest,
  AdminRevokeAllRequest,
  BulkRevokeAllRequest,
  BulkRevokeAllResponse,
  AdminSessionListResponse,
  AdminSessionView,
  ChangeRoleRequest,
  PasswordResetIssuedResponse,
  RoleChangedResponse,
  UserSessionsQuery,
} from './dto/admin.dto';
import { parseDevice } from './sessions/device';

/** The internal console: inspect and end any user's sessions, read the audit trail. Admins only. */
@ApiTags('admin')
@ConsoleAdminsOnly()
// Every route reads or writes PostgreSQL (the admin check reads the role on each request).
@ApiProblem(503)
@Controller('admin')
export class AdminController {
  constructor(
    private readonly commandBus: CommandBus,
    private readonly directory: SessionDirectory,
    private readonly stepUp: StepUp,
  ) {}

  @Get('users/:userId/sessions')
  @ApiOperation({
    summary:
      "A user's sessions, newest first (active only unless include=revoked), each with its device as read from the User-Agent and whether it is the caller's own",
  })
  @ApiOkResponse({ type: AdminSessionListResponse, description: "The user's sessions" })
  @ApiProblem(404, 'No user with this id')
  async listUserSessions(
    @UuidParam('userId') userId: string,
    @Query() query: UserSessionsQuery,
    @CurrentSession() admin: AuthenticatedSession,
  ): Promise<AdminSessionListResponse> {
    await this.requireUser(userId);
    const includeRevoked = query.include === 'revoked';
    const sessions = await this.directory.listSessions(userId, includeRevoked);
    return { sessions: sessions.map((session) => toView(session, includeRevoked, admin.sessionId)) };
  }

  @Post('users/:userId/sessions/revoke-all')
  @HttpCode(HttpStatus.OK)
  @RateLimitedPerUser({ revocation: true })
  @ApiOperation({ summary: "End all of a user's sessions (optionally but one); the admin is recorded as the actor" })
  @ApiOkResponse({
    type: RevocationReceiptResponse,
    description: 'The sessions that ended (revokedCount: how many), and when their last access token would have expired',
  })
  @ApiProblem(404, 'No user with this id (the attempt is audited)')
  @StepUpRequired()
  async revokeAll(
    @UuidParam('userId') userId: string,
    @Body() body: AdminRevokeAllRequest,
    @CurrentSession() admin: AuthenticatedSession,
    @ClientContext() context: RequestContext,
  ): Promise<RevocationReceiptResponse> {
    await this.stepUp.forUser(admin, userId);
    // Dispatched first: a revocation of an unknown user is refused by the command, so it is audited.
    const outcome = await this.commandBus.execute(
      new RevokeAllUserSessions(userId, body.reason, Actors.admin(admin.userId), context, body.keepSessionId ?? null),
    );
    if (outcome.kind === 'rejected') throw new NotFoundException('No user with this id');
    return toReceiptResponse(outcome);
  }

  @Post('users/sessions/revoke-all')
  @HttpCode(HttpStatus.OK)
  @RateLimitedPerUser({ revocation: true })
  @ApiOperation({
    summary:
      'End all sessions of several users at once (optionally but one session): one audited revoke-all per user, the admin as the actor; needs a reauthentication when there is more than one user',
  })
  @ApiOkResponse({
    type: BulkRevokeAllResponse,
    description: 'The sessions that ended, per user (each its receipt) and in all; an unknown user is `found: false`',
  })
  @StepUpRequired()
  async revokeAllOfUsers(
    @Body() body: BulkRevokeAllRequest,
    @CurrentSession() admin: AuthenticatedSession,
    @ClientContext() context: RequestContext,
  ): Promise<BulkRevokeAllResponse> {
    await this.stepUp.forUsers(admin, body.userIds);
    const results: BulkRevokeAllResponse['results'] = [];
    // One after the other, each its own command and audit triad: one user's failure does not
    // hide what was already done for the others (an error stops the loop; what ended stays ended).
    for (const userId of body.userIds) {
      const outcome = await this.commandBus.execute(
        new RevokeAllUserSessions(userId, body.reason, Actors.admin(admin.userId), context, body.keepSessionId ?? null),
      );
      results.push(
        outcome.kind === 'revoked'
          ? { userId, found: true, ...toReceiptResponse(outcome) }
          : { userId, found: false, revokedCount: 0, sessionIds: [], effectiveAt: null, accessTokensValidUntil: null },
      );
    }
    return { results, ...bulkReceipt(results) };
  }

  @Post('sessions/:sessionId/revoke')
  @EndsOneSession()
  @ApiOperation({
    summary: 'End one session of any user (the same as DELETE /admin/sessions/{sessionId}, for clients and proxies that drop the body of a DELETE)',
  })
  async revokeSessionByPost(
    @UuidParam('sessionId') sessionId: string,
    @Body() body: AdminReasonRequest,
    @CurrentSession() admin: AuthenticatedSession,
    @ClientContext() context: RequestContext,
  ): Promise<RevocationReceiptResponse> {
    return this.endSession(sessionId, body.reason, admin, context);
  }

  @Delete('sessions/:sessionId')
  @EndsOneSession()
  @ApiOperation({ summary: 'End one session of any user (its reason in a JSON body; POST /admin/sessions/{sessionId}/revoke does the same)' })
  async revokeSession(
    @UuidParam('sessionId') sessionId: string,
    @Body() body: AdminReasonRequest,
    @CurrentSession() admin: AuthenticatedSession,
    @ClientContext() context: RequestContext,
  ): Promise<RevocationReceiptResponse> {
    return this.endSession(sessionId, body.reason, admin, context);
  }

  @Put('users/:userId/role')
  @RateLimitedPerUser()
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: "Set a user's role, with a reason (audited; no session ends, a demoted admin loses the console at once)" })
  @ApiNoContentResponse({ description: 'The user has the role (also when they had it already)' })
  @RoleChangeProblems()
  async setRole(
    @UuidParam('userId') userId: string,
    @Body() body: ChangeRoleRequest,
    @CurrentSession() admin: AuthenticatedSession,
    @ClientContext() context: RequestContext,
  ): Promise<void> {
    await this.changeUserRole(userId, body, admin, context);
  }

  @Post('users/:userId/role')
  @RateLimitedPerUser()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: "Change a user's role, with a reason (audited); deprecated: PUT /admin/users/{userId}/role does the same and answers 204",
    deprecated: true,
  })
  @ApiOkResponse({ type: RoleChangedResponse, description: 'The role now and before' })
  @RoleChangeProblems()
  async changeRole(
    @UuidParam('userId') userId: string,
    @Body() body: ChangeRoleRequest,
    @CurrentSession() admin: AuthenticatedSession,
    @ClientContext() context: RequestContext,
  ): Promise<RoleChangedResponse> {
    return this.changeUserRole(userId, body, admin, context);
  }

  @Post('users/:userId/disable')
  @RateLimitedPerUser({ revocation: true })
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Disable an account: its logins and refreshes are refused and every session ends, in one audited action' })
  @ApiOkResponse({
    type: RevocationReceiptResponse,
    description: 'The account is disabled; the sessions that ended (revokedCount: how many), and when their last access token would have expired',
  })
  @ApiProblem(404, 'No user with this id (the attempt is audited)')
  @StepUpRequired()
  async disable(
    @UuidParam('userId') userId: string,
    @Body() body: AdminReasonRequest,
    @CurrentSession() admin: AuthenticatedSession,
    @ClientContext() context: RequestContext,
  ): Promise<RevocationReceiptResponse> {
    await this.stepUp.forUser(admin, userId);
    const outcome = await this.commandBus.execute(new DisableUser(userId, body.reason, Actors.admin(admin.userId), context));
    if (outcome.kind === 'rejected') throw new NotFoundException('No user with this id');
    return toReceiptResponse(outcome);
  }

  @Post('users/:userId/enable')
  @RateLimitedPerUser()
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Let a disabled account sign in again (its ended sessions stay ended)' })
  @ApiNoContentResponse({ description: 'The account may sign in again' })
  @ApiProblem(404, 'No user with this id (the attempt is audited)')
  @StepUpRequired()
  async enable(
    @UuidParam('userId') userId: string,
    @Body() body: AdminReasonRequest,
    @CurrentSession() admin: AuthenticatedSession,
    @ClientContext() context: RequestContext,
  ): Promise<void> {
    await this.stepUp.forUser(admin, userId);
    const outcome = await this.commandBus.execute(new EnableUser(userId, body.reason, Actors.admin(admin.userId), context));
    if (outcome.kind === 'rejected') throw new NotFoundException('No user with this id');
  }

  @Post('users/:userId/require-password-reset')
  @RequiresPasswordReset()
  async forcePasswordReset(
    @UuidParam('userId') userId: string,
    @Body() body: AdminReasonRequest,
    @CurrentSession() admin: AuthenticatedSession,
    @ClientContext() context: RequestContext,
  ): Promise<PasswordResetIssuedResponse> {
    return this.issuePasswordReset(userId, body.reason, admin, context);
  }

  // The first path of this action; kept (with its operationId) for the clients written against it.
  @Post('users/:userId/password-reset')
  @RequiresPasswordReset()
  async requirePasswordReset(
    @UuidParam('userId') userId: string,
    @Body() body: AdminReasonRequest,
    @CurrentSession() admin: AuthenticatedSession,
    @ClientContext() context: RequestContext,
  ): Promise<PasswordResetIssuedResponse> {
    return this.issuePasswordReset(userId, body.reason, admin, context);
  }

  private async issuePasswordReset(userId: string, reason: string, admin: AuthenticatedSession, context: RequestContext): Promise<PasswordResetIssuedResponse> {
    await this.stepUp.forUser(admin, userId);
    const outcome = await this.commandBus.execute(new RequirePasswordReset(userId, reason, Actors.admin(admin.userId), context));
    if (outcome.kind === 'rejected') throw new NotFoundException('No user with this id');
    return { ...toReceiptResponse(outcome), resetToken: outcome.resetToken, expiresAt: outcome.expiresAt };
  }

  private async changeUserRole(userId: string, body: ChangeRoleRequest, admin: AuthenticatedSession, context: RequestContext): Promise<RoleChangedResponse> {
    await this.stepUp.forUser(admin, userId);
    const outcome = await this.commandBus.execute(new ChangeUserRole(userId, body.role, body.reason, Actors.admin(admin.userId), context));
    if (outcome.kind === 'changed') return { userId: outcome.userId, role: outcome.role, previousRole: outcome.previousRole };
    switch (outcome.reason) {
      case 'user_not_found':
        throw new NotFoundException('No user with this id');
      case 'last_admin':
        throw new ProblemException(409, 'This is the last administrator; promote another account first', { code: 'last_admin' });
      case 'cannot_demote_self':
        throw new ProblemException(409, 'An administrator cannot take their own admin role away; another administrator must', { code: 'cannot_demote_self' });
      default:
        return assertNever(outcome.reason);
    }
  }

  /** Whoever's session it is (null user): an unknown id is refused by the command, so it is audited. */
  private async endSession(sessionId: string, reason: string, admin: AuthenticatedSession, context: RequestContext): Promise<RevocationReceiptResponse> {
    await this.stepUp.forSession(admin, sessionId);
    const outcome = await this.commandBus.execute(new RevokeSession(null, sessionId, reason, Actors.admin(admin.userId), context));
    if (outcome.kind === 'rejected') throw new NotFoundException('No active session with this id');
    return toReceiptResponse(outcome);
  }

  private async requireUser(userId: string): Promise<void> {
    if (!(await this.directory.findUser(userId))) throw new NotFoundException('No user with this id');
  }
}

/**
 * The whole of a bulk revoke-all, as one receipt: every session any of its commands ended, from
 * the latest of their instants (by then all had), valid until the latest of their bounds; the two
 * instants are null when no user was found (no revocation ran).
 */
function bulkReceipt(results: BulkRevokeAllResponse['results']): Omit<BulkRevokeAllResponse, 'results'> {
  const latest = (dates: Array<Date | null>): Date | null =>
    dates.reduce<Date | null>((max, date) => (date !== null && (max === null || date > max) ? date : max), null);
  return {
    revokedCount: results.reduce((sum, result) => sum + result.revokedCount, 0),
    sessionIds: results.flatMap((result) => result.sessionIds),
    effectiveAt: latest(results.map((result) => result.effectiveAt)),
    accessTokensValidUntil: latest(results.map((result) => result.accessTokensValidUntil)),
  };
}

/**
 * What the two routes that end one session (the DELETE and its POST twin) share, so they cannot
 * drift apart: 200 with the receipt, one rate-limit budget between them, and their documented answers.
 */
function EndsOneSession(): MethodDecorator {
  return applyDecorators(
    HttpCode(HttpStatus.OK),
    RateLimitedPerUser({ revocation: true, budget: 'revokeSession' }),
    ApiOkResponse({ type: RevocationReceiptResponse, description: 'The session has ended: its receipt' }),
    ApiProblem(404, 'No active session with this id (the attempt is audited)'),
    StepUpRequired(),
  );
}

/** The two role routes (PUT, and the deprecated POST) answer the same refusals. */
function RoleChangeProblems(): MethodDecorator {
  return applyDecorators(
    StepUpRequired(),
    ApiProblem(404, 'No user with this id (the attempt is audited)'),
    ApiProblem(
      409,
      'code "last_admin": the user is the last administrator, promote another account first; code "cannot_demote_self": an administrator demoting themself (both audited)',
    ),
  );
}

/** The two password-reset routes (require-password-reset, and the older password-reset) are one action. */
function RequiresPasswordReset(): MethodDecorator {
  return applyDecorators(
    RateLimitedPerUser({ revocation: true }),
    HttpCode(HttpStatus.OK),
    ApiOperation({
      summary:
        'End every session and require a password reset, in one audited action: the current password stops working; the one-time token returned (valid 24 h) sets a new one at POST /auth/password/reset',
    }),
    ApiOkResponse({ type: PasswordResetIssuedResponse, description: 'Every session ended; the one-time reset token for the user' }),
    ApiProblem(404, 'No user with this id (the attempt is audited)'),
    StepUpRequired(),
  );
}

function toView(session: SessionRecord, includeRevocation: boolean, callerSessionId: string): AdminSessionView {
  const view: AdminSessionView = {
    id: session.id,
    createdAt: session.createdAt,
    lastSeenAt: session.lastSeenAt,
    expiresAt: session.expiresAt,
    ipAddress: session.ipAddress,
    userAgent: session.userAgent,
    device: parseDevice(session.userAgent),
    current: session.id === callerSessionId,
  };
  if (includeRevocation) {
    view.revokedAt = session.revokedAt;
    view.revokedReason = session.revokedReason;
    view.revokedBy = session.revokedBy;
  }
  return view;
}

function assertNever(value: never): never {
  throw new Error(`Unhandled outcome: ${String(value)}`);
}
