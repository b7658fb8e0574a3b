import { applyDecorators } from '@nestjs/common';
import {
  ApiExtraModels,
  ApiProperty,
  ApiPropertyOptional,
  ApiResponse,
  ApiSchema,
  getSchemaPath,
  type HeadersObject,
  type ResponseObject,
} from '@nestjs/swagger';
import { PROBLEM_CONTENT_TYPE } from './problem-details';

/** OpenAPI's view of FieldError (problem-details.ts). */
@ApiSchema({ name: 'FieldError', description: 'One invalid input of a 400 and everything wrong with it' })
export class FieldErrorSchema {
  @ApiProperty({ description: 'Dotted path of the field (`email`, `devices.0.name`), or the name of a path or query parameter', example: 'email' })
  field: string;

  @ApiProperty({ type: [String], example: ['email must be an email address'] })
  messages: string[];
}

/**
 * OpenAPI's view of ProblemDetails (problem-details.ts), with the extension members this
 * service's problems carry. Further members may appear (a failing health check keeps
 * terminus's `info`, `error` and `details`), as RFC 9457 §3.2 allows, so the schema stays open.
 */
@ApiSchema({
  name: 'ProblemDetails',
  description: 'An RFC 9457 problem: every error of this API is one, sent as application/problem+json',
})
export class ProblemDetailsSchema {
  @ApiProperty({ description: 'A URI naming the kind of problem; `about:blank` means the status says it all', example: 'about:blank' })
  type: string;

  @ApiProperty({ description: 'The status text', example: 'Bad Request' })
  title: string;

  @ApiProperty({ type: 'integer', minimum: 400, maximum: 599, description: 'The HTTP status, repeated', example: 400 })
  status: number;

  @ApiProperty({ description: 'What went wrong with this request, for a person to read', example: 'The request has 1 invalid field: email' })
  detail: string;

  @ApiPropertyOptional({ description: 'The path of the request the problem is about (without its query)', example: '/auth/register' })
  instance?: string;

  @ApiPropertyOptional({
    description:
      'A machine-readable reason where the status alone does not tell the client what to do: `invalid_token` (401: refresh, then sign in again), `insufficient_scope` (403: the token is good but not allowed), `invalid_grant` (401 from the refresh: sign in again)',
    example: 'invalid_token',
  })
  code?: string;

  @ApiPropertyOptional({ type: [FieldErrorSchema], description: 'A 400 for invalid input: each invalid field and what is wrong with it' })
  errors?: FieldErrorSchema[];
}

/** The statuses a route of this service can answer with a problem, and what each means unless a route says more. */
export const PROBLEM_STATUS_DESCRIPTIONS = {
  400: 'The request is invalid: malformed JSON, or a field, parameter or query value refused (`errors` lists each)',
  401: 'No valid access token, or the credentials are refused',
  403: 'Authenticated, but not allowed',
  404: 'Not found',
  409: 'Conflicts with the current state',
  413: 'The request body is larger than the configured limit (BODY_LIMIT)',
  415: 'The request body is not JSON (send Content-Type: application/json)',
  429: 'Too many requests; wait for Retry-After seconds',
  503: 'A service this request depends on (the database, the cache) is unavailable; retry after Retry-After seconds',
} as const satisfies Readonly<Record<number, string>>;

export type ProblemStatus = keyof typeof PROBLEM_STATUS_DESCRIPTIONS;

const RETRY_AFTER: HeadersObject = {
  'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer', minimum: 1 } },
};

/** The statuses whose answer carries Retry-After (the rate limits, and the filter's answer to an unreachable dependency). */
const RETRY_AFTER_STATUSES: ReadonlySet<number> = new Set([429, 503]);

export interface ApiProblemOptions {
  /** Replaces the headers documented by default (Retry-After for 429 and 503); `{}` for none. */
  readonly headers?: HeadersObject;
}

/**
 * The OpenAPI response of a problem: application/problem+json with the ProblemDetails component
 * (which ApiProblem registers), the status's default description unless given, and Retry-After
 * where this service sends it.
 */
export function problemResponse(status: ProblemStatus, description?: string, options: ApiProblemOptions = {}): ResponseObject {
  const headers = options.headers ?? (RETRY_AFTER_STATUSES.has(status) ? RETRY_AFTER : {});
  return {
    description: description ?? PROBLEM_STATUS_DESCRIPTIONS[status],
    content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: getSchemaPath(ProblemDetailsSchema) } } },
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
  };
}

/**
 * Documents that a route (or every route of a controller) answers `status` with an
 * application/problem+json ProblemDetails, registered once as a component:
 * `@ApiProblem(404, 'No user with this id')`.
 */
export function ApiProblem(status: ProblemStatus, description?: string, options: ApiProblemOptions = {}): MethodDecorator & ClassDecorator {
  return applyDecorators(ApiExtraModels(ProblemDetailsSchema), ApiResponse({ status, ...problemResponse(status, description, options) }));
}

/** Several problems with their default descriptions: `@ApiProblems(400, 413, 415)`. */
export function ApiProblems(...statuses: ProblemStatus[]): MethodDecorator & ClassDecorator {
  return applyDecorators(...statuses.map((status) => ApiProblem(status)));
}
