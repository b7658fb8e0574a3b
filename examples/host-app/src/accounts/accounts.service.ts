import {
  Actors,
  LoginUser,
  LogoutUser,
  RegisterUser,
  RevokeAllUserSessions,
  RevocationReasons,
  type LoginOutcome,
  type LogoutOutcome,
  type RegisterOutcome,
  type RequestContext,
  type RevokeAllOutcome,
} from '@app/sessions';
import { Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';

/** The host's account use cases, each one command of the sessions library. */
@Injectable()
export class AccountsService {
  constructor(private readonly commandBus: CommandBus) {}

  register(email: string, password: string, context: RequestContext): Promise<RegisterOutcome> {
    return this.commandBus.execute(new RegisterUser(email, password, context));
  }

  signIn(email: string, password: string, context: RequestContext): Promise<LoginOutcome> {
    return this.commandBus.execute(new LoginUser(email, password, context));
  }

  /** Ends the caller's session (the one of the refresh token, and the one of the access token). */
  signOut(refreshToken: string, caller: { userId: string; sessionId: string }, context: RequestContext): Promise<LogoutOutcome> {
    return this.commandBus.execute(new LogoutUser(refreshToken, caller.userId, context, caller.sessionId));
  }

  /** Ends every session of the user, this one included. */
  signOutEverywhere(userId: string, context: RequestContext): Promise<RevokeAllOutcome> {
    return this.commandBus.execute(new RevokeAllUserSessions(userId, RevocationReasons.userRevokedAll, Actors.user(userId), context));
  }
}
