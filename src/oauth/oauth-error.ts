import { ArgumentsHost, Catch, ExceptionFilter } from '@nestjs/common';
import type { FastifyReply } from 'fastify';

/** The RFC 6749 §5.2 error codes the revocation endpoint answers (RFC 7009 §2.2.1 adds the second). */
export const OAUTH_ERROR_CODES = ['invalid_request', 'unsupported_token_type'] as const;
export type OAuthErrorCode = (typeof OAUTH_ERROR_CODES)[number];

/** A 400 an OAuth endpoint answers in OAuth's own format (OAuthErrorFilter), not as a problem. */
export class OAuthError extends Error {
  constructor(
    readonly error: OAuthErrorCode,
    readonly description: string,
  ) {
    super(description);
  }
}

/**
 * Answers an OAuthError as RFC 6749 §5.2 says: 400 and `{"error", "error_description"}` as
 * application/json, which OAuth client libraries parse (a problem+json body they would not).
 * Only OAuthError: everything else (415, 413, 429, 503) stays with the app's problem filter.
 * Cache-Control: no-store is already on every answer of the app.
 */
@Catch(OAuthError)
export class OAuthErrorFilter implements ExceptionFilter<OAuthError> {
  catch(exception: OAuthError, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    void reply
      .status(400)
      .header('Content-Type', 'application/json; charset=utf-8')
      .send(JSON.stringify({ error: exception.error, error_description: exception.description }));
  }
}
