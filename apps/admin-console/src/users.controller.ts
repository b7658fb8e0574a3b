import {
  Actors,
  type AuthenticatedSession,
  ClientContext,
  CurrentSession,
  type RequestContext,
  SessionDirectory,
  UnlockUser,
  type UserDirectoryEntry,
} from '@app/sessions';
import { RateLimitedPerUser } from '@app/runtime';
import { ApiProblem, UuidParam } from '@app/platform';
import { Body, Controller, Get, HttpCode, HttpStatus, NotFoundException, Post, Query } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ConsoleAdminsOnly } from './console-auth/console-access';
import { StepUp, StepUpRequired } from './console-auth/step-up';
import { AdminReasonRequest } from './dto/admin.dto';
import { USER_PAGE_DEFAULT, UserListQuery, UserListResponse, UserView } from './dto/users.dto';
import { decodeUserCursor, encodeUserCursor } from './user-cursor';

/** The console's user directory: find an account by email or id, see its state, lift its login lockouts. Admins only. */
@ApiTags('admin')
@ConsoleAdminsOnly()
@ApiProblem(503)
@Controller('admin/users')
export class UsersController {
  constructor(
    private readonly commandBus: CommandBus,
    private readonly directory: SessionDirectory,
    private readonly stepUp: StepUp,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Users ordered by email, a page at a time: all, or by exact id or email prefix (case-insensitive), optionally by status' })
  @ApiOkResponse({ type: UserListResponse, description: 'One page of users, and the cursor of the next' })
  async listUsers(@Query() query: UserListQuery): Promise<UserListResponse> {
    const page = await this.directory.searchUsers({
      query: query.query,
      status: query.status,
      limit: query.limit ?? USER_PAGE_DEFAULT,
      // Validated by the DTO: a cursor that does not decode never gets here.
      after: query.cursor === undefined ? undefined : (decodeUserCursor(query.cursor) ?? undefined),
    });
    return { users: page.users.map(toView), nextCursor: page.next ? encodeUserCursor(page.next) : null };
  }

  @Get(':userId')
  @ApiOperation({ summary: 'One user: account, status, last sign-in and live sessions' })
  @ApiOkResponse({ type: UserView, description: 'The user' })
  @ApiProblem(404, 'No user with this id')
  async getUser(@UuidParam('userId') userId: string): Promise<UserView> {
    const user = await this.directory.describeUser(userId);
    if (!user) throw new NotFoundException('No user with this id');
    return toView(user);
  }

  @Post(':userId/unlock')
  @RateLimitedPerUser()
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({
    summary: "Lift the login lockouts of the user's email (every network's lock and the email-wide delay); audited, also when there was none",
  })
  @ApiNoContentResponse({ description: 'The account can be signed in to at once' })
  @ApiProblem(404, 'No user with this id (the attempt is audited)')
  @StepUpRequired()
  async unlockUser(
    @UuidParam('userId') userId: string,
    @Body() body: AdminReasonRequest,
    @CurrentSession() admin: AuthenticatedSession,
    @ClientContext() context: RequestContext,
  ): Promise<void> {
    await this.stepUp.forUser(admin, userId);
    const outcome = await this.commandBus.execute(new UnlockUser(userId, body.reason, Actors.admin(admin.userId), context));
    if (outcome.kind === 'rejected') throw new NotFoundException('No user with this id');
  }
}

function toView(user: UserDirectoryEntry): UserView {
  return {
    id: user.id,
    email: user.email,
    role: user.role,
    status: user.status,
    lockedUntil: user.lockedUntil,
    passwordResetRequired: user.passwordResetRequired,
    createdAt: user.createdAt,
    lastLoginAt: user.lastLoginAt,
    activeSessions: user.activeSessions,
  };
}
