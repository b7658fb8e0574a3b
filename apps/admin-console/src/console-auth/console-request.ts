import type { AuthenticatedRequest, ConsoleSessionState } from '@app/sessions';
import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

/** The console session a request's cookie authenticated, with the credential the cookie carried. */
export interface ConsoleSession extends ConsoleSessionState {
  readonly credential: string;
}

/** What ConsoleGuard leaves on a request: `authenticated` either way, `consoleSession` when the cookie was the credential. */
export type ConsoleRequest = FastifyRequest & AuthenticatedRequest & { consoleSession?: ConsoleSession };

/** The console session of a cookie-authenticated request; undefined when the request came with a Bearer token. */
export const CurrentConsoleSession = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): ConsoleSession | undefined => ctx.switchToHttp().getRequest<ConsoleRequest>().consoleSession,
);
