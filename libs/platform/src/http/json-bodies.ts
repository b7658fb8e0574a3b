import type { NextFunction, Request, Response } from 'express';
import { ProblemException } from './problem-details';

/**
 * Express middleware answering 415 for a request body that is not JSON. Only JSON bodies are
 * parsed, so any other body would reach the handler as no body at all: a form-encoded
 * `keepCurrent=true` sent to revoke-all would be read as `{}` and end every session, this one
 * included. An empty body (Content-Length: 0) is no body and passes, whatever its type.
 */
export function requireJsonBodies(request: Request, _response: Response, next: NextFunction): void {
  if (hasBody(request) && !request.is('application/json')) {
    next(new ProblemException(415, 'The request body must be JSON, sent with Content-Type: application/json'));
    return;
  }
  next();
}

function hasBody(request: Request): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && Number(length) !== 0);
}
