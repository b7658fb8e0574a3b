import { STATUS_CODES } from 'node:http';
import { HttpException } from '@nestjs/common';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** An RFC 9457 problem object. Extension members (such as `errors`) sit next to the standard ones. */
export interface ProblemDetails {
  /** A URI naming the kind of problem; `about:blank` means "just the HTTP status". */
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  /** A URI reference for this occurrence; the filter fills in the request path. */
  readonly instance?: string;
  readonly [extension: string]: unknown;
}

/** What a caller may add to a problem: its own type, title or instance, and extension members. */
export type ProblemExtras = { readonly type?: string; readonly title?: string; readonly instance?: string } & Readonly<Record<string, unknown>>;

/** One invalid input and everything wrong with it. */
export interface FieldError {
  /** Dotted path of the field, e.g. `email` or `devices.0.name`; for a parameter, its name. */
  readonly field: string;
  readonly messages: readonly string[];
}

export function statusTitle(status: number): string {
  return STATUS_CODES[status] ?? (status >= 500 ? 'Server Error' : 'Client Error');
}

/** Builds a problem body; `type` is `about:blank` and `title` the status text unless given. */
export function problem(status: number, detail: string, extras: ProblemExtras = {}): ProblemDetails {
  const { type, title, instance, ...extensions } = extras;
  return {
    ...extensions,
    type: type ?? 'about:blank',
    title: title ?? statusTitle(status),
    status,
    detail,
    ...(instance === undefined ? {} : { instance }),
  };
}

/** Recognises a body that already is a problem (one this module built, or a compatible one). */
export function isProblemDetails(value: unknown): value is ProblemDetails {
  if (value === null || typeof value !== 'object') return false;
  const candidate = value as Record<string, unknown>;
  return typeof candidate.status === 'number' && typeof candidate.title === 'string' && typeof candidate.type === 'string';
}

/**
 * An HTTP error whose response is a problem object, for controllers:
 * `throw new ProblemException(404, 'Session not found')`. The filter sends it as it is.
 */
export class ProblemException extends HttpException {
  constructor(status: number, detail: string, extras: ProblemExtras = {}, options?: { cause?: unknown }) {
    super(problem(status, detail, extras), status, options);
    // HttpException would otherwise take the class name as the message, which logs poorly.
    this.message = detail;
  }

  get problem(): ProblemDetails {
    return this.getResponse() as ProblemDetails;
  }
}

/** A 400 listing the invalid fields; used by the validation pipe and the UUID parameter pipe. */
export function invalidRequest(detail: string, errors: readonly FieldError[]): ProblemException {
  return new ProblemException(400, detail, { errors });
}
