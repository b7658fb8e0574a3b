import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ProblemException } from './problem-details';

/** The detail of the 415 for a body that is not JSON. */
export const JSON_BODIES_ONLY = 'The request body must be JSON, sent with Content-Type: application/json';

/** The detail of the 415 on a form route (formRoutes) for a body that is not a form. */
export const FORM_BODIES_ONLY = 'The request body must be a form, sent with Content-Type: application/x-www-form-urlencoded';

const FORM_MEDIA_TYPE = 'application/x-www-form-urlencoded';

/** A form body's fields; a field sent more than once has each of its values, in order. */
export type FormFields = Readonly<Record<string, string | readonly string[]>>;

/**
 * Makes JSON the only request body a Fastify app reads, up to `limitBytes`. Any other body is
 * answered 415: unparsed, a form-encoded `keepCurrent=true` sent to revoke-all would be read as
 * no body and end every session, this one included. Fastify's text/plain parser goes for the
 * same reason.
 *
 * An empty body is no body, whatever its type, as it was for Express's parser: a client that sets
 * `Content-Type: application/json` on every call, a body-less logout included, is not refused
 * (Fastify's own JSON parser answers 400). Only UTF-8 is read (RFC 8259 §8.1), and no
 * Content-Encoding: both are 415 rather than a body misread as something else. Fastify never
 * reads the body of a GET or HEAD (it means nothing there, RFC 9110 §9.3.1); its headers are
 * judged all the same.
 *
 * `formRoutes` (POST route templates, `/oauth/revoke`) take an
 * `application/x-www-form-urlencoded` body instead, and only that: OAuth endpoints are form
 * endpoints (RFC 6749 Appendix B, RFC 7009 §2.1). Every other route still answers a form 415.
 */
export function acceptJsonBodiesOnly(app: FastifyInstance, limitBytes: number, formRoutes: readonly string[] = []): void {
  // Judged on the headers, before a byte of the body is read, for every method: a body of the
  // wrong type is 415 whatever its size, and one declared too large is 413. Fastify has matched
  // the route by then (routeOptions.url is its template, whatever the trailing slash or query).
  const takesForm = (request: FastifyRequest) => request.method === 'POST' && formRoutes.includes(request.routeOptions.url ?? '');
  app.addHook('onRequest', (request, _reply, done) => done(refusedBody(request, limitBytes, takesForm(request) ? FORM_MEDIA_TYPE : JSON_MEDIA_TYPE)));
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: limitBytes }, (_request, body, done) => {
    if (body.length === 0) return done(null, undefined);
    const parsed = parseJsonBody(body as string);
    if (parsed instanceof ProblemException) return done(parsed, undefined);
    done(null, parsed);
  });
  // Beside the JSON parser, with the same limit, rather than @fastify/formbody: the hook above
  // decides which route may send a form, and the parse is Node's URLSearchParams, the WHATWG
  // form-urlencoded parser, whatever plugin would wrap it.
  if (formRoutes.length > 0)
    app.addContentTypeParser(FORM_MEDIA_TYPE, { parseAs: 'string', bodyLimit: limitBytes }, (_request, body, done) =>
      done(null, parseFormBody(body as string)),
    );
  // Any other type, or none, with no body (the hook refused every other): no body.
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: limitBytes }, (_request, body, done) =>
    body.length === 0 ? done(null, undefined) : done(new ProblemException(415, JSON_BODIES_ONLY), undefined),
  );
}

/**
 * The body as a JSON object or array, as body-parser's strict mode read it: a top-level scalar
 * (`"x"`, `1`, `null`) is malformed. Plain JSON.parse, not Fastify's secure-json-parse: it makes
 * `__proto__` an own property, never the prototype, so the validation pipe sees it and refuses
 * it by name, where secure-json-parse would refuse the whole body as if it were not JSON.
 */
function parseJsonBody(body: string): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return new ProblemException(400, 'Malformed JSON body');
  }
  return parsed === null || typeof parsed !== 'object' ? new ProblemException(400, 'Malformed JSON body') : parsed;
}

/**
 * A form body's fields (WHATWG URL's application/x-www-form-urlencoded parser: `+` is a space,
 * escapes decode as UTF-8, a malformed one as U+FFFD). The object has no prototype, so a field
 * named `__proto__` or `constructor` is just a field.
 */
export function parseFormBody(body: string): FormFields {
  const fields: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  for (const [name, value] of new URLSearchParams(body)) {
    const earlier = fields[name];
    fields[name] = earlier === undefined ? value : [...(Array.isArray(earlier) ? earlier : [earlier]), value];
  }
  return fields;
}

const JSON_MEDIA_TYPE = 'application/json';

function refusedBody(request: FastifyRequest, limitBytes: number, expected: typeof JSON_MEDIA_TYPE | typeof FORM_MEDIA_TYPE): ProblemException | undefined {
  const { headers } = request;
  const length = headers['content-length'];
  if (headers['transfer-encoding'] === undefined && (length === undefined || Number(length) === 0)) return undefined;
  const mediaType = (headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (mediaType !== expected) return new ProblemException(415, expected === JSON_MEDIA_TYPE ? JSON_BODIES_ONLY : FORM_BODIES_ONLY);
  const encoding = request.headers['content-encoding'];
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') return new ProblemException(415, 'Unsupported Content-Encoding');
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(request.headers['content-type'] ?? '')?.[1]?.toLowerCase();
  if (charset !== undefined && charset !== 'utf-8') return new ProblemException(415, 'Unsupported charset in Content-Type');
  if (length !== undefined && Number(length) > limitBytes) return new ProblemException(413, `Request body is larger than ${limitBytes} bytes`);
  return undefined;
}
