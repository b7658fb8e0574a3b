import { InvalidCommandInput } from '@app/sessions';
import { ArgumentsHost, Catch, ExceptionFilter, HttpStatus } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';

/**
 * A command the library refused for its input (a malformed refresh token, say) is the caller's
 * mistake: a 400 naming the field, not a 500. Written through the HTTP adapter, so it answers the
 * same on Express and on Fastify.
 */
@Catch(InvalidCommandInput)
export class InvalidCommandInputFilter implements ExceptionFilter<InvalidCommandInput> {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(error: InvalidCommandInput, host: ArgumentsHost): void {
    const body = { statusCode: HttpStatus.BAD_REQUEST, error: 'Bad Request', message: `${error.field} ${error.problem}`, field: error.field };
    this.adapterHost.httpAdapter.reply(host.switchToHttp().getResponse(), body, HttpStatus.BAD_REQUEST);
  }
}
