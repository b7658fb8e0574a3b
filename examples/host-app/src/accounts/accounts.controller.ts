import { AccessTokenGuard, ClientContext, CurrentSession, type AuthenticatedSession, type RequestContext } from '@app/sessions';
import {
  BadRequestException,
  Body,
  ConflictException,
  Controller,
  Get,
  HttpCode,
  HttpStatus,
  NotFoundException,
  Post,
  UnauthorizedException,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import { AccountsService } from './accounts.service';
import { InvalidCommandInputFilter } from './invalid-command-input.filter';

/** The host's own routes; the signed-in ones are guarded by the library's AccessTokenGuard. */
@Controller('accounts')
@UseFilters(InvalidCommandInputFilter)
export class AccountsController {
  constructor(private readonly accounts: AccountsService) {}

  @Post()
  async register(@Body() body: unknown, @ClientContext() context: RequestContext): Promise<{ userId: string }> {
    const outcome = await this.accounts.register(field(body, 'email'), field(body, 'password'), context);
    if (outcome.kind === 'registered') return { userId: outcome.userId };
    switch (outcome.reason) {
      case 'email_taken':
        throw new ConflictException('This email is already registered');
      case 'invalid_email':
      case 'weak_password':
        throw new BadRequestException(outcome.problem);
      default:
        return assertNever(outcome);
    }
  }

  @Post('sign-in')
  @HttpCode(HttpStatus.OK)
  async signIn(@Body() body: unknown, @ClientContext() context: RequestContext): Promise<{ accessToken: string; refreshToken: string }> {
    const outcome = await this.accounts.signIn(field(body, 'email'), field(body, 'password'), context);
    if (outcome.kind === 'rejected') throw new UnauthorizedException('Invalid email or password');
    return { accessToken: outcome.accessToken, refreshToken: outcome.refreshToken };
  }

  @Get('me')
  @UseGuards(AccessTokenGuard)
  me(@CurrentSession() session: AuthenticatedSession): AuthenticatedSession {
    return { userId: session.userId, sessionId: session.sessionId };
  }

  @Post('me/sign-out')
  @UseGuards(AccessTokenGuard)
  @HttpCode(HttpStatus.NO_CONTENT)
  async signOut(@Body() body: unknown, @CurrentSession() session: AuthenticatedSession, @ClientContext() context: RequestContext): Promise<void> {
    const outcome = await this.accounts.signOut(field(body, 'refreshToken'), session, context);
    switch (outcome.kind) {
      case 'revoked':
        return;
      case 'rejected':
        // Nothing ended: the caller's session ended meanwhile (the guard had just seen it active).
        throw new UnauthorizedException('This session has already ended');
      default:
        return assertNever(outcome);
    }
  }

  @Post('me/sign-out-everywhere')
  @UseGuards(AccessTokenGuard)
  @HttpCode(HttpStatus.OK)
  async signOutEverywhere(@CurrentSession() session: AuthenticatedSession, @ClientContext() context: RequestContext): Promise<{ revokedCount: number }> {
    const outcome = await this.accounts.signOutEverywhere(session.userId, context);
    switch (outcome.kind) {
      case 'revoked':
        return { revokedCount: outcome.revokedCount };
      case 'rejected':
        throw new NotFoundException('No such user');
      default:
        return assertNever(outcome);
    }
  }
}

/** A required string field of a JSON body; anything else is a 400. */
function field(body: unknown, name: string): string {
  const value = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > 1_024) throw new BadRequestException(`${name} must be a non-empty string`);
  return value;
}

function assertNever(value: never): never {
  throw new Error(`Unexpected outcome ${JSON.stringify(value)}`);
}
