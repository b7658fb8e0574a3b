import { createHmac } from 'node:crypto';
import { Agent, type IncomingHttpHeaders, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AUDIT_ACTIONS, passwordProblem, REFRESH_TOKEN_PATTERN } from '@app/sessions';
import { isEmail, isUUID } from 'class-validator';
import fc from 'fast-check';
import { bearer, login, signUp, type SignedIn, uniqueEmail } from '../support/api';
import { brokenTriads, sql } from '../support/sql';
import { startTestStack, type TestStack } from '../support/test-app';

/**
 * Property-based bad input against every route of both apps: each generated request is invalid
 * by construction (a bad token, body, path id, query, media type, size or header), and each must
 * be answered with the 4xx its defect calls for, as an RFC 9457 problem, and change nothing.
 *
 * FC_SEED=<n> replays a run (fast-check prints the seed and path of a failure);
 * BAD_INPUT_RUNS=<n> sets the runs per route (default 560: 21 routes, over 11,000 requests).
 */
const SEED = process.env.FC_SEED === undefined ? undefined : Number(process.env.FC_SEED);
const RUNS_PER_ROUTE = Number(process.env.BAD_INPUT_RUNS ?? 560);
const COMMAND_RUNS = 300;
const BODY_LIMIT = 16 * 1024;
const FUZZ_AGENT = 'bad-input-fuzz';
const COMMAND_AGENT = 'bad-input-command';

const ADMIN = { email: uniqueEmail('admin'), password: 'admin password 1' };

// ---------------------------------------------------------------------------------------------
// Requests, sent over a keep-alive connection with nothing added or normalized on the way

type App = 'web' | 'admin';

interface RawRequest {
  readonly app: App;
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  /** Sent with Transfer-Encoding: chunked instead of Content-Length. */
  readonly chunked?: boolean;
}

interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
}

interface Case {
  readonly kind: string;
  readonly request: RawRequest;
  readonly expected: readonly number[];
  /** The audit action of the command this well-formed request reaches, refused as Attempted and Failed. */
  readonly audits?: string;
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const ports: Record<App, number> = { web: 0, admin: 0 };

function send(request: RawRequest): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const body = request.body === undefined ? undefined : Buffer.from(request.body, 'utf8');
    const headers: Record<string, string> = { 'User-Agent': FUZZ_AGENT, ...request.headers };
    // Node frames a GET body only when told to chunk it.
    if (body) headers[request.chunked ? 'Transfer-Encoding' : 'Content-Length'] = request.chunked ? 'chunked' : String(body.length);
    const outgoing = httpRequest({ host: '127.0.0.1', port: ports[request.app], method: request.method, path: request.path, headers, agent }, (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers, text: Buffer.concat(chunks).toString('utf8') }));
      incoming.on('error', reject);
    });
    outgoing.on('error', reject);
    if (body) outgoing.write(body);
    outgoing.end();
  });
}

const statusCounts = new Map<number, number>();
const kindCounts = new Map<string, number>();
let sent = 0;

function tally(kind: string, status: number): void {
  sent += 1;
  statusCounts.set(status, (statusCounts.get(status) ?? 0) + 1);
  kindCounts.set(kind, (kindCounts.get(kind) ?? 0) + 1);
}

/** The answer must be the expected 4xx, as application/problem+json with the RFC 9457 members. */
const INVALID_TOKEN_CHALLENGE =
  'Bearer realm="sessions", error="invalid_token", error_description="The access token is invalid or expired, or its session has ended"';

function checkProblem(testCase: Case, answer: Answer): void {
  const { request } = testCase;
  const where = `${testCase.kind}: ${request.method} ${request.app}${request.path.slice(0, 200)} -> ${answer.status} ${answer.text.slice(0, 300)}`;
  if (!testCase.expected.includes(answer.status)) throw new Error(`expected ${testCase.expected.join('|')}; ${where}`);
  if (!/^application\/problem\+json(;|$)/.test(answer.headers['content-type'] ?? '')) {
    throw new Error(`Content-Type ${answer.headers['content-type']}; ${where}`);
  }
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(answer.text) as Record<string, unknown>;
  } catch {
    throw new Error(`body is not JSON; ${where}`);
  }
  const wellFormed =
    typeof body.type === 'string' &&
    typeof body.title === 'string' &&
    body.title !== '' &&
    body.status === answer.status &&
    typeof body.detail === 'string' &&
    body.detail !== '';
  if (!wellFormed) throw new Error(`not a problem; ${where}`);
  if (answer.status === 401 && testCase.kind.startsWith('auth')) {
    // RFC 6750 §3.1: an error code only when Bearer credentials were sent (Node trims header values).
    const authorization = request.headers.Authorization?.trim();
    const presented = authorization !== undefined && /^bearer(\s|$)/i.test(authorization);
    const challenge = presented ? INVALID_TOKEN_CHALLENGE : 'Bearer realm="sessions"';
    if (answer.headers['www-authenticate'] !== challenge) throw new Error(`401 without WWW-Authenticate: ${challenge}; ${where}`);
  }
  if (
    answer.status === 403 &&
    testCase.kind === 'auth:not-admin' &&
    !/^Bearer realm="sessions", error="insufficient_scope"/.test(answer.headers['www-authenticate'] ?? '')
  ) {
    throw new Error(`403 without an insufficient_scope challenge; ${where}`);
  }
}

async function exchange(testCase: Case): Promise<void> {
  const answer = await send(testCase.request).catch((error: Error) => {
    throw new Error(
      `no answer (${error.message}) to ${testCase.kind}: ${testCase.request.method} ${testCase.request.app}${testCase.request.path.slice(0, 200)}`,
    );
  });
  tally(testCase.kind, answer.status);
  checkProblem(testCase, answer);
}

// ---------------------------------------------------------------------------------------------
// JSON text, so that keys like __proto__, duplicate-free objects and deep nesting are exact

type Entry = readonly [key: string, json: string];

const json = (value: unknown): string => JSON.stringify(value);
const objectText = (entries: readonly Entry[]): string => `{${entries.map(([key, value]) => `${json(key)}:${value}`).join(',')}}`;

/** Nested arrays or objects `depth` levels deep, written as text (JSON.stringify would recurse). */
const deepText = fc
  .tuple(fc.integer({ min: 2, max: 6_000 }), fc.constantFrom('array', 'object'))
  .map(([depth, shape]) => (shape === 'array' ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`));

const finiteNumber = fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }));
const smallJson = fc.jsonValue({ maxDepth: 2 });
const smallObject = fc.dictionary(fc.string({ maxLength: 8 }), smallJson, { maxKeys: 4 });
/** Anything but a string, and not null (which an optional field takes for absent). */
const notStringNorNull = fc.oneof(finiteNumber, fc.boolean(), fc.array(smallJson, { maxLength: 4 }), smallObject);
const notString = fc.oneof(notStringNorNull, fc.constant(null));

/** A string of exactly n characters, ASCII or astral (each counts as one). */
const stringOfLength = (n: number) =>
  fc.tuple(fc.string({ minLength: 1, maxLength: 8 }), fc.boolean()).map(([unit, astral]) => [...(astral ? '😀' : unit).repeat(n)].slice(0, n).join(''));
const longerThan = (max: number) => fc.integer({ min: max + 1, max: max + 3_000 }).chain(stringOfLength);
const shorterThan = (min: number) => fc.string({ maxLength: min - 1 });
/** A valid-looking string with U+0000 in it, which PostgreSQL cannot store. */
const withNul = (valid: fc.Arbitrary<string>) =>
  fc.tuple(valid, fc.nat()).map(([text, at]) => `${text.slice(0, at % (text.length + 1))}\u0000${text.slice(at % (text.length + 1))}`);
/** Within class-validator's Length, which does not count U+FE0F, but longer than the column. */
const variationSelectorBomb = (max: number) => fc.integer({ min: 1, max: 300 }).map((extra) => `abc${'\uFE0F'.repeat(max - 3 + extra)}`);

interface Field {
  readonly name: string;
  readonly required: boolean;
  readonly valid: fc.Arbitrary<unknown>;
  readonly invalid: fc.Arbitrary<unknown>;
}

/** A required string of min..max characters: wrong types, lengths and U+0000 are its invalid values. */
function stringField(name: string, min: number, max: number, valid: fc.Arbitrary<string> = fc.string({ minLength: min, maxLength: max })): Field {
  return { name, required: true, valid, invalid: fc.oneof(notString, ...(min > 0 ? [shorterThan(min)] : []), longerThan(max), withNul(valid)) };
}

/** Emails that pass IsEmail but are longer than users.email (varchar(254)) once lowercased. */
const emailTooLongWhenLowercased = fc
  .integer({ min: 30, max: 32 })
  .map((dotted) => `${'İ'.repeat(dotted)}@${['a'.repeat(63), 'b'.repeat(63), 'c'.repeat(63), 'com'].join('.')}`);

const uuid = fc.uuid();
const notUuid = fc.string({ maxLength: 60 }).filter((text) => !isUUID(text, 'all'));
const refreshToken = fc.stringMatching(/^[A-Za-z0-9_-]{43}$/);
const notRefreshToken = fc.oneof(
  notString,
  fc.string({ maxLength: 80 }).filter((text) => !REFRESH_TOKEN_PATTERN.test(text)),
  fc.oneof(fc.integer({ min: 0, max: 42 }), fc.integer({ min: 44, max: 120 })).chain((n) => fc.stringMatching(new RegExp(`^[A-Za-z0-9_-]{${n}}$`))),
  fc
    .tuple(refreshToken, fc.nat({ max: 42 }), fc.constantFrom('+', '/', '=', ' ', '.', '~', 'é'))
    .map(([token, at, bad]) => token.slice(0, at) + bad + token.slice(at + 1)),
);

const reasonField: Field = { ...stringField('reason', 3, 200), invalid: fc.oneof(stringField('reason', 3, 200).invalid, variationSelectorBomb(200)) };

const DTOS = {
  register: [
    {
      ...stringField('email', 1, 254, fc.emailAddress()),
      invalid: fc.oneof(
        notString,
        fc.string({ maxLength: 80 }).filter((text) => !isEmail(text)),
        longerThan(254),
        emailTooLongWhenLowercased,
        withNul(fc.emailAddress()),
      ),
    },
    stringField('password', 8, 128),
  ],
  login: [stringField('email', 1, 254), stringField('password', 1, 128)],
  refreshToken: [{ name: 'refreshToken', required: true, valid: refreshToken, invalid: notRefreshToken }],
  // null is no value for an optional field, so it is not among the invalid ones.
  revokeAll: [
    {
      name: 'keepCurrent',
      required: false,
      valid: fc.boolean(),
      invalid: fc.oneof(finiteNumber, fc.string(), fc.array(smallJson, { maxLength: 3 }), smallObject),
    },
  ],
  password: [stringField('currentPassword', 1, 128), stringField('newPassword', 8, 128)],
  adminRevokeAll: [reasonField, { name: 'keepSessionId', required: false, valid: uuid, invalid: fc.oneof(notStringNorNull, notUuid) }],
  adminReason: [reasonField],
  adminRole: [
    reasonField,
    {
      name: 'role',
      required: true,
      valid: fc.constantFrom('user', 'admin'),
      invalid: fc.oneof(
        notString,
        fc.string({ maxLength: 20 }).filter((text) => text !== 'user' && text !== 'admin'),
      ),
    },
  ],
  resetPassword: [{ name: 'resetToken', required: true, valid: refreshToken, invalid: notRefreshToken }, stringField('newPassword', 8, 128)],
} satisfies Record<string, readonly Field[]>;

type Dto = readonly Field[];

/**
 * Every member of Object.prototype, and `prototype` (Nest deletes it with `__proto__` and
 * `constructor`), which neither Nest nor class-validator treat as unknown by themselves.
 */
const PROTOTYPE_KEYS = [...Object.getOwnPropertyNames(Object.prototype), 'prototype'];

function unknownKey(dto: Dto): fc.Arbitrary<string> {
  const names = new Set(dto.map((field) => field.name));
  return fc
    .oneof(
      fc.string({ maxLength: 30 }),
      fc.constantFrom(...PROTOTYPE_KEYS, 'role', 'isAdmin', 'userId', 'Email', 'PASSWORD', 'refresh_token', 'keep_current', 'reason '),
      fc.string({ maxLength: 10 }).map((key) => `${key}\u0000`),
    )
    .filter((key) => !names.has(key));
}

/** One member per field, or none when `values` gives undefined. */
function entries(dto: Dto, values: (field: Field) => fc.Arbitrary<unknown>): fc.Arbitrary<Entry[]> {
  if (dto.length === 0) return fc.constant([]);
  const member = (field: Field) => values(field).map((value) => (value === undefined ? [] : [[field.name, json(value)] as Entry]));
  return fc.tuple(...dto.map(member)).map((parts) => parts.flat());
}

/** A body with every field valid (optional ones may be absent). */
const validEntries = (dto: Dto) => entries(dto, (field) => (field.required ? field.valid : fc.option(field.valid, { nil: undefined })));

/** The other fields of a body whose defect is elsewhere: valid, invalid or absent. */
const anyEntries = (dto: Dto) => entries(dto, (field) => fc.option(fc.oneof(field.valid, field.invalid), { nil: undefined }));

/** JSON bodies a DTO must refuse, each with at least one defect by construction. */
function invalidBody(dto: Dto): fc.Arbitrary<string> {
  const required = dto.filter((field) => field.required);
  const without = (name: string) => dto.filter((field) => field.name !== name);
  const defects: Array<fc.Arbitrary<string>> = [
    // One field of a wrong type, too short, too long, or holding U+0000, the others in any order.
    fc
      .constantFrom(...dto)
      .chain((field) => fc.tuple(field.invalid, anyEntries(without(field.name))).map(([bad, rest]): Entry[] => [[field.name, json(bad)], ...rest]))
      .chain((members) => fc.shuffledSubarray(members, { minLength: members.length }).map(objectText)),
    // Unknown members next to valid ones, Object.prototype's names among them.
    fc
      .tuple(validEntries(dto), fc.uniqueArray(fc.tuple(unknownKey(dto), smallJson), { minLength: 1, maxLength: 3, selector: ([key]) => key }))
      .map(([valid, extra]) => objectText([...valid, ...extra.map(([key, value]): Entry => [key, json(value)])])),
    // Not an object: an array (even of a valid body).
    fc.oneof(
      fc.array(smallJson, { maxLength: 4 }).map(json),
      validEntries(dto).map((valid) => `[${objectText(valid)}]`),
    ),
    // Deep nesting in a known or an unknown member.
    fc
      .tuple(fc.oneof(fc.constantFrom(...dto.map((field) => field.name)), unknownKey(dto)), deepText, validEntries(dto))
      .map(([key, deep, valid]) => objectText([...valid.filter(([name]) => name !== key), [key, deep]])),
  ];
  // A required field missing.
  if (required.length > 0) defects.push(fc.constantFrom(...required).chain((field) => anyEntries(without(field.name)).map(objectText)));
  return fc.oneof(...defects);
}

function validBody(dto: Dto): fc.Arbitrary<string> {
  return validEntries(dto).map(objectText);
}

/** A body that passes body-parser (a JSON object, valid for the route or not), or none. */
function anyObjectBody(dto: Dto | undefined): fc.Arbitrary<string | undefined> {
  const dtoBodies = dto ? [validBody(dto), invalidBody(dto)] : [];
  return fc.oneof(fc.constant(undefined), smallObject.map(json), ...dtoBodies);
}

// ---------------------------------------------------------------------------------------------
// Bodies refused before any route code: malformed, oversized, not JSON, undecodable

const FIRST_CHARACTER = /^[ \t\n\r]*([^ \t\n\r]|$)/;

/** What body-parser's strict JSON parser refuses (a leading BOM is stripped, so none is made). */
function isMalformed(text: string): boolean {
  if (text.length === 0 || text.startsWith('\uFEFF')) return false;
  const first = FIRST_CHARACTER.exec(text)?.[1];
  if (first !== '{' && first !== '[') return true;
  try {
    JSON.parse(text);
    return false;
  } catch {
    return true;
  }
}

const malformedJson = fc
  .oneof(
    fc.string({ minLength: 1, maxLength: 200 }),
    fc.string({ minLength: 1, maxLength: 200, unit: 'binary' }),
    validBody(DTOS.login).chain((text) => fc.integer({ min: 1, max: text.length - 1 }).map((cut) => text.slice(0, cut))),
    fc.constantFrom('{"a":1,}', "{'a':1}", '{a:1}', '{"a":NaN}', '{"a":Infinity}', '{"a":undefined}', '{"a":01}', '[1,]', '{"a":"\\x41"}'),
    fc.constantFrom('{"a":"\t"}', '"x"', '1', 'true', 'null', '{"a":1}}', '{"a":1}{"b":2}', '   ', '\n'),
  )
  .filter(isMalformed);

const NOT_JSON_TYPES = [
  'text/plain',
  'text/plain; charset=utf-8',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'application/xml',
  'text/xml',
  'application/octet-stream',
  'application/vnd.api+json',
  'application/merge-patch+json',
  'application/json-seq',
  'text/json',
  'application/javascript',
  'application/json, text/plain',
  'json',
  'garbage',
];
const BAD_CHARSETS = ['latin1', 'iso-8859-1', 'us-ascii', 'windows-1252', 'koi8-r', 'shift_jis', 'ucs-2', 'utf8', 'utf-9', 'utf-bogus'];
/** Charsets body-parser accepts, which turn an ASCII body into something that is not JSON. */
const GARBLING_CHARSETS = ['utf-16', 'utf-16le', 'utf-16be', 'utf-32'];
const BAD_ENCODINGS = ['gzip', 'deflate', 'br', 'compress', 'x-gzip', 'zstd', 'bogus', 'gzip, gzip'];

type Headers = Record<string, string>;

function parserCase(base: Omit<RawRequest, 'body' | 'headers'>, auth: fc.Arbitrary<Headers>, dto: Dto | undefined): fc.Arbitrary<Case> {
  const objectBody = dto ? fc.oneof(validBody(dto), invalidBody(dto)) : smallObject.map(json);
  const jsonType = fc.constant({ 'Content-Type': 'application/json' });
  // A charset or an encoding may be refused before, or after, the size of the body is.
  const mayBeTooLarge = new Set(['parser:charset', 'parser:content-encoding']);
  const make =
    (kind: string, expected: number[]) =>
    ([authorization, headers, body, chunked]: [Headers, Headers, string | undefined, boolean?]): Case => ({
      kind,
      expected: mayBeTooLarge.has(kind) && body !== undefined && Buffer.byteLength(body) > BODY_LIMIT ? [...expected, 413] : expected,
      request: { ...base, headers: { ...authorization, ...headers }, body, chunked },
    });
  const tooLarge = fc.integer({ min: BODY_LIMIT + 1, max: 60_000 }).map((size) => json({ email: 'x'.repeat(size) }));
  const notJsonType = fc.oneof(
    fc.constantFrom(...NOT_JSON_TYPES).map((type) => ({ 'Content-Type': type })),
    fc.constant({}),
  );
  const charset = fc.constantFrom(...BAD_CHARSETS, ...GARBLING_CHARSETS).map((name) => ({ 'Content-Type': `application/json; charset=${name}` }));
  const encoding = fc.constantFrom(...BAD_ENCODINGS).map((name) => ({ 'Content-Type': 'application/json', 'Content-Encoding': name }));
  const hugeHeader = fc.integer({ min: 17_000, max: 40_000 }).map((size) => ({ 'X-Padding': 'p'.repeat(size) }));
  // The server never reads the body of a GET: only what its headers say can be refused (its
  // type, charset, encoding, a declared length over the limit), not what is in it.
  const readsBody = base.method !== 'GET';
  return fc.oneof(
    ...(readsBody ? [fc.tuple(auth, jsonType, malformedJson).map(make('parser:malformed', [400]))] : []),
    // Over the limit, with Content-Length or chunked.
    fc
      .tuple(
        auth,
        jsonType,
        tooLarge,
        fc.boolean().filter((chunked) => readsBody || !chunked),
      )
      .map(make('parser:too-large', [413])),
    fc.tuple(auth, notJsonType, fc.oneof(objectBody, fc.constant('keepCurrent=true&reason=abcdef'))).map(make('parser:media-type', [415])),
    fc.tuple(auth, charset, objectBody).map(make('parser:charset', [400, 415])),
    // Not compressed, or in an encoding body-parser does not know.
    fc.tuple(auth, encoding, objectBody).map(make('parser:content-encoding', [400, 415])),
    // Headers beyond Node's 16 kB: refused before Express, still as a problem.
    fc.tuple(auth, hugeHeader, fc.option(objectBody, { nil: undefined })).map(make('parser:header-too-large', [431])),
  );
}

// ---------------------------------------------------------------------------------------------
// Access tokens: malformed, expired, wrongly signed, alg none or swapped, odd claims

const base64url = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const nowSeconds = () => Math.floor(Date.now() / 1_000);

function signJwt(header: unknown, payload: unknown, key: string | null, hash = 'sha256'): string {
  const signingInput = `${base64url(header)}.${base64url(payload)}`;
  return `${signingInput}.${key === null ? '' : createHmac(hash, key).update(signingInput).digest('base64url')}`;
}

interface Principals {
  readonly secret: string;
  readonly user: SignedIn;
  readonly other: SignedIn;
  readonly admin: { userId: string; sessionId: string; accessToken: string };
  readonly revokedAccessToken: string;
}

function badAuthorization(p: Principals): fc.Arbitrary<Record<string, string>> {
  const valid = p.user.accessToken;
  const claims = (extra: Record<string, unknown> = {}) => ({ sub: p.user.userId, sid: p.user.sessionId, iat: nowSeconds(), exp: nowSeconds() + 600, ...extra });
  const HS256 = { alg: 'HS256', typ: 'JWT' };
  const badClaim = fc.oneof(notUuid, fc.integer(), fc.constant(null), fc.boolean(), fc.array(uuid, { maxLength: 2 }), fc.constant(undefined));
  const [header, payload, signature] = valid.split('.');
  const tokens: Array<fc.Arbitrary<string>> = [
    fc.constant(p.revokedAccessToken),
    // Expired, otherwise perfect.
    fc.integer({ min: 1, max: 10_000_000 }).map((ago) => signJwt(HS256, claims({ iat: nowSeconds() - ago - 900, exp: nowSeconds() - ago }), p.secret)),
    // Not yet valid, or an expiry that is not a number.
    fc.constant(signJwt(HS256, claims({ nbf: nowSeconds() + 3_600 }), p.secret)),
    fc.constant(signJwt(HS256, claims({ exp: String(nowSeconds() + 600) }), p.secret)),
    // Signed with another secret.
    fc
      .string({ minLength: 1, maxLength: 64 })
      .filter((key) => key !== p.secret)
      .map((key) => signJwt(HS256, claims(), key)),
    // alg: none, with no, a bogus or the genuine signature.
    fc
      .tuple(fc.constantFrom('none', 'None', 'NONE', 'nOnE'), fc.constantFrom('', 'AAAA', signature))
      .map(([alg, sig]) => `${base64url({ alg, typ: 'JWT' })}.${base64url(claims())}.${sig}`),
    // Other HMAC algorithms with the right secret: the algorithm is pinned to HS256.
    fc.constantFrom(['HS384', 'sha384'], ['HS512', 'sha512']).map(([alg, hash]) => signJwt({ alg, typ: 'JWT' }, claims(), p.secret, hash)),
    // Labelled asymmetric, HMAC-signed with the secret (the key-confusion attack), or labelled HS256 but signed otherwise.
    fc.constantFrom('RS256', 'RS512', 'ES256', 'PS256', 'EdDSA').map((alg) => signJwt({ alg, typ: 'JWT' }, claims(), p.secret)),
    fc.constantFrom('sha384', 'sha512', 'sha1', 'md5').map((hash) => signJwt(HS256, claims(), p.secret, hash)),
    // Correctly signed, but sub or sid is not a UUID (or missing).
    fc
      .tuple(badClaim, fc.oneof(fc.constant(p.user.sessionId), badClaim), fc.boolean())
      .map(([a, b, swap]) => signJwt(HS256, claims(swap ? { sid: a, sub: b } : { sub: a, sid: b }), p.secret)),
    // Correctly signed UUIDs of no session, and of someone else's session (a user claiming an admin's or another user's).
    fc.tuple(uuid, uuid).map(([sub, sid]) => signJwt(HS256, claims({ sub, sid }), p.secret)),
    fc
      .constantFrom(
        [p.admin.userId, p.user.sessionId],
        [p.user.userId, p.admin.sessionId],
        [p.user.userId, p.other.sessionId],
        [p.other.userId, p.user.sessionId],
      )
      .map(([sub, sid]) => signJwt(HS256, claims({ sub, sid }), p.secret)),
    // The genuine token tampered with: another payload, or one signature character changed.
    fc.constant(`${header}.${base64url(claims({ sub: p.admin.userId, sid: p.admin.sessionId }))}.${signature}`),
    fc
      .tuple(fc.nat({ max: signature.length - 2 }), fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'))
      .filter(([at, ch]) => signature[at] !== ch)
      .map(([at, ch]) => `${header}.${payload}.${signature.slice(0, at)}${ch}${signature.slice(at + 1)}`),
    // Correctly signed but longer than the guard reads (4,096 characters).
    fc.integer({ min: 4_100, max: 8_000 }).map((size) => signJwt(HS256, claims({ pad: 'x'.repeat(size) }), p.secret)),
    // Not JSON inside, or not three segments.
    fc.constant(signJwt('not json', claims(), p.secret)),
    fc.constant(signJwt(HS256, 'not json', p.secret)),
    fc.constant(signJwt(HS256, [1, 2], p.secret)),
    fc.constantFrom(`${header}.${payload}`, `${valid}.${signature}`, `${header}..${signature}`, '..', 'a.b.c'),
    fc.string({ maxLength: 300 }),
  ];
  const values: Array<fc.Arbitrary<string>> = [
    fc.oneof(...tokens).map((token) => `Bearer ${token}`),
    fc.string({ maxLength: 300 }),
    fc.string({ maxLength: 300 }).map((text) => `Bearer ${text}`),
    // The genuine token, wrapped wrongly.
    fc.constantFrom('Bearer', 'Basic dXNlcjpwYXNzd29yZA==', `bearer ${valid}`, `BEARER ${valid}`, `Token ${valid}`, `Bearer  ${valid}`, valid),
    fc.constantFrom(`Bearer ${valid} x`, `Bearer "${valid}"`, `Bearer ${valid},Bearer ${valid}`, `Bearer\t${valid}`),
  ];
  return fc.oneof(
    fc.constant({}),
    fc.oneof(...values).map((value) => ({ Authorization: value })),
  );
}

// ---------------------------------------------------------------------------------------------
// Paths and queries

/** Ids the UUID pipe refuses, percent-encoded so the route still matches. */
const badId = fc
  .oneof(
    notUuid.filter((text) => text.length > 0),
    uuid.chain((id) =>
      fc.oneof(
        fc.constant(`{${id}}`),
        fc.constant(`urn:uuid:${id}`),
        fc.constant(id.replace(/-/g, '')),
        fc.constant(` ${id}`),
        fc.constant(`${id}0`),
        fc.constant(id.slice(1)),
        fc.nat({ max: 35 }).map((at) => `${id.slice(0, at)}g${id.slice(at + 1)}`),
      ),
    ),
  )
  .filter((text) => !isUUID(text, 'all'))
  .map(encodeURIComponent);
/** Percent-escapes that do not decode: refused by Express before any guard. */
const malformedId = fc.constantFrom('%', '%zz', '%E0%A4%A', '%C0%AF', '%FF', 'abc%', '%%', '%u0041');

type QueryPair = readonly [string, string];
const queryText = (pairs: readonly QueryPair[]) =>
  pairs.length === 0 ? '' : `?${pairs.map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`).join('&')}`;
/** Anything, for routes whose query is ignored or refused before it is read. */
const noiseQuery = fc.array(fc.tuple(fc.string({ maxLength: 12 }), fc.string({ maxLength: 40 })), { maxLength: 3 }).map(queryText);

interface QueryParam {
  readonly name: string;
  readonly valid: fc.Arbitrary<string>;
  readonly invalid: fc.Arbitrary<string>;
  /** Any text up to a length: a %-escape that does not decode is kept as text, which it may hold. */
  readonly freeText?: true;
}

const validLimit = (text: string) => Number.isInteger(Number(text)) && Number(text) >= 1 && Number(text) <= 200;
const validUserLimit = (text: string) => Number.isInteger(Number(text)) && Number(text) >= 1 && Number(text) <= 100;
const USER_STATUSES: string[] = ['active', 'disabled', 'locked'];
const QUERIES: Record<'userSessions' | 'audit' | 'users', readonly QueryParam[]> = {
  users: [
    { name: 'query', valid: fc.string({ maxLength: 40 }), invalid: fc.string({ minLength: 255, maxLength: 300 }), freeText: true },
    { name: 'status', valid: fc.constantFrom(...USER_STATUSES), invalid: fc.string({ maxLength: 20 }).filter((text) => !USER_STATUSES.includes(text)) },
    {
      name: 'limit',
      valid: fc.integer({ min: 1, max: 100 }).map(String),
      invalid: fc.oneof(fc.string({ maxLength: 10 }), fc.integer().map(String), fc.double().map(String)).filter((text) => !validUserLimit(text)),
    },
    {
      name: 'cursor',
      valid: uuid.map((id) => Buffer.from(JSON.stringify(['someone@example.com', id])).toString('base64url')),
      // Nothing but what the endpoint handed out decodes: random text, and base64url of other JSON.
      invalid: fc.oneof(
        fc.string({ maxLength: 40 }),
        fc.jsonValue().map((value) => Buffer.from(JSON.stringify(value) ?? 'null').toString('base64url')),
      ),
    },
  ],
  userSessions: [{ name: 'include', valid: fc.constant('revoked'), invalid: fc.string({ maxLength: 20 }).filter((text) => text !== 'revoked') }],
  audit: [
    { name: 'userId', valid: uuid, invalid: notUuid },
    {
      name: 'action',
      valid: fc.constantFrom(...AUDIT_ACTIONS),
      invalid: fc.string({ maxLength: 30 }).filter((text) => !(AUDIT_ACTIONS as readonly string[]).includes(text)),
    },
    {
      name: 'limit',
      valid: fc.integer({ min: 1, max: 200 }).map(String),
      // Number() is lenient (' 5', '1e1' and '0x10' pass), so what it accepts is filtered out.
      invalid: fc.oneof(fc.string({ maxLength: 10 }), fc.integer().map(String), fc.double().map(String)).filter((text) => !validLimit(text)),
    },
    { name: 'cursor', valid: uuid, invalid: notUuid },
    { name: 'actorId', valid: uuid, invalid: notUuid },
    { name: 'sessionId', valid: uuid, invalid: notUuid },
    {
      name: 'outcome',
      valid: fc.constantFrom('attempted', 'succeeded', 'failed'),
      invalid: fc.string({ maxLength: 20 }).filter((text) => !['attempted', 'succeeded', 'failed'].includes(text)),
    },
  ],
};

function validQuery(params: readonly QueryParam[]): fc.Arbitrary<QueryPair[]> {
  const pair = (param: QueryParam) =>
    fc.option(param.valid, { nil: undefined }).map((value): QueryPair[] => (value === undefined ? [] : [[param.name, value]]));
  return fc.tuple(...params.map(pair)).map((parts) => parts.flat());
}

/** Queries a DTO must refuse: an invalid value, a repeated parameter, or an unknown one. */
function invalidQuery(params: readonly QueryParam[]): fc.Arbitrary<string> {
  const names = new Set(params.map((param) => param.name));
  const unknown = fc
    .oneof(fc.string({ maxLength: 20 }), fc.constantFrom(...PROTOTYPE_KEYS, 'include[]', 'limit[]', 'userId[a]', 'LIMIT'))
    .filter((key) => !names.has(key));
  const rest = (skip: string) => validQuery(params.filter((param) => param.name !== skip));
  return fc.oneof(
    fc.constantFrom(...params).chain((param) => fc.tuple(param.invalid, rest(param.name)).map(([bad, others]) => queryText([...others, [param.name, bad]]))),
    // Given twice or more: an array, which no parameter takes.
    fc
      .constantFrom(...params)
      .chain((param) =>
        fc
          .tuple(fc.array(fc.oneof(param.valid, param.invalid), { minLength: 2, maxLength: 3 }), rest(param.name))
          .map(([values, others]) => queryText([...others, ...values.map((value): QueryPair => [param.name, value])])),
      ),
    fc.tuple(unknown, fc.string({ maxLength: 20 }), validQuery(params)).map(([key, value, valid]) => queryText([...valid, [key, value]])),
    // A value whose %-escape does not decode (the query parser keeps it as it is).
    fc
      .tuple(fc.string({ maxLength: 20 }), fc.constantFrom(...params.filter((param) => !param.freeText)))
      .map(([value, param]) => `?${param.name}=${encodeURIComponent(value)}%zz`),
  );
}

// ---------------------------------------------------------------------------------------------
// Routes

type Access = 'public' | 'optional' | 'user' | 'admin';

interface Route {
  readonly app: App;
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly path: string;
  readonly access: Access;
  readonly dto?: Dto;
  readonly query?: readonly QueryParam[];
  /** The path parameter, and which real id fills it when the id is not what is under test. */
  readonly param?: { readonly name: string; readonly real: () => string };
  /** The audited command a well-formed request dispatches (so an unknown id is refused by it, audited). */
  readonly command?: string;
}

interface Fixture extends Principals {
  readonly victim: SignedIn;
}

let fixture: Fixture;

function routes(): Route[] {
  const victimUser = { name: 'userId', real: () => fixture.victim.userId };
  const victimSession = { name: 'sessionId', real: () => fixture.victim.sessionId };
  return [
    { app: 'web', method: 'POST', path: '/auth/register', access: 'public', dto: DTOS.register },
    { app: 'web', method: 'POST', path: '/auth/login', access: 'public', dto: DTOS.login },
    { app: 'web', method: 'POST', path: '/auth/refresh', access: 'public', dto: DTOS.refreshToken },
    { app: 'web', method: 'POST', path: '/auth/logout', access: 'optional', dto: DTOS.refreshToken },
    { app: 'web', method: 'GET', path: '/auth/me', access: 'user' },
    { app: 'web', method: 'GET', path: '/auth/sessions', access: 'user' },
    { app: 'web', method: 'DELETE', path: '/auth/sessions/:sessionId', access: 'user', param: { name: 'sessionId', real: () => fixture.user.sessionId } },
    { app: 'web', method: 'POST', path: '/auth/sessions/revoke-all', access: 'user', dto: DTOS.revokeAll },
    { app: 'web', method: 'POST', path: '/auth/password', access: 'user', dto: DTOS.password },
    { app: 'web', method: 'POST', path: '/auth/password/reset', access: 'public', dto: DTOS.resetPassword },
    { app: 'admin', method: 'GET', path: '/admin/users/:userId/sessions', access: 'admin', query: QUERIES.userSessions, param: victimUser },
    {
      app: 'admin',
      method: 'POST',
      path: '/admin/users/:userId/sessions/revoke-all',
      access: 'admin',
      dto: DTOS.adminRevokeAll,
      param: victimUser,
      command: 'sessions.revoke_all',
    },
    {
      app: 'admin',
      method: 'DELETE',
      path: '/admin/sessions/:sessionId',
      access: 'admin',
      dto: DTOS.adminReason,
      param: victimSession,
      command: 'session.revoke',
    },
    {
      app: 'admin',
      method: 'POST',
      path: '/admin/sessions/:sessionId/revoke',
      access: 'admin',
      dto: DTOS.adminReason,
      param: victimSession,
      command: 'session.revoke',
    },
    { app: 'admin', method: 'POST', path: '/admin/users/:userId/disable', access: 'admin', dto: DTOS.adminReason, param: victimUser, command: 'user.disable' },
    { app: 'admin', method: 'POST', path: '/admin/users/:userId/enable', access: 'admin', dto: DTOS.adminReason, param: victimUser, command: 'user.enable' },
    {
      app: 'admin',
      method: 'POST',
      path: '/admin/users/:userId/password-reset',
      access: 'admin',
      dto: DTOS.adminReason,
      param: victimUser,
      command: 'user.password_reset_require',
    },
    { app: 'admin', method: 'POST', path: '/admin/users/:userId/role', access: 'admin', dto: DTOS.adminRole, param: victimUser, command: 'user.role_change' },
    { app: 'admin', method: 'PUT', path: '/admin/users/:userId/role', access: 'admin', dto: DTOS.adminRole, param: victimUser, command: 'user.role_change' },
    {
      app: 'admin',
      method: 'POST',
      path: '/admin/users/:userId/require-password-reset',
      access: 'admin',
      dto: DTOS.adminReason,
      param: victimUser,
      command: 'user.password_reset_require',
    },
    { app: 'admin', method: 'GET', path: '/admin/audit', access: 'admin', query: QUERIES.audit },
    { app: 'admin', method: 'GET', path: '/admin/users', access: 'admin', query: QUERIES.users },
    { app: 'admin', method: 'GET', path: '/admin/users/:userId', access: 'admin', param: victimUser },
    { app: 'admin', method: 'POST', path: '/admin/users/:userId/unlock', access: 'admin', dto: DTOS.adminReason, param: victimUser, command: 'user.unlock' },
    { app: 'admin', method: 'GET', path: '/admin/overview', access: 'admin' },
  ];
}

/** Whether some route of either app takes this method and path (its parameters matching anything). */
function matchesRoute(method: string, path: string): boolean {
  return routes().some((route) => route.method === method && new RegExp(`^${route.path.replace(/:\w+/g, '[^/]+')}$`).test(path));
}

/** Every id of the fixture: a "random" UUID must never be one of them. */
const realIds = () =>
  new Set([fixture.user, fixture.other, fixture.victim].flatMap((s) => [s.userId, s.sessionId]).concat([fixture.admin.userId, fixture.admin.sessionId]));

function pathWith(route: Route, id?: string): string {
  return route.param ? route.path.replace(`:${route.param.name}`, id ?? route.param.real()) : route.path;
}

/** Authorization headers that pass the route's guards. */
function validAuthorization(route: Route): fc.Arbitrary<Record<string, string>> {
  const user = { Authorization: `Bearer ${fixture.user.accessToken}` };
  const admin = { Authorization: `Bearer ${fixture.admin.accessToken}` };
  switch (route.access) {
    case 'admin':
      return fc.constant(admin);
    case 'user':
      return fc.constantFrom(user, admin);
    case 'public':
    case 'optional':
      // Ignored (public) or optional: anything goes, a valid token included.
      return fc.oneof(fc.constantFrom({}, user, admin), badAuthorization(fixture));
  }
}

const jsonType = { 'Content-Type': 'application/json' };

function caseFor(route: Route): fc.Arbitrary<Case> {
  const protectedRoute = route.access === 'user' || route.access === 'admin';
  const goodAuth = validAuthorization(route);
  const anyAuth = fc.oneof(goodAuth, badAuthorization(fixture));
  const withBody = (body: string | undefined): { headers: Record<string, string>; body?: string } =>
    body === undefined ? { headers: {} } : { headers: jsonType, body };
  const request = (method: string, path: string, auth: Record<string, string>, body: string | undefined): RawRequest => {
    const payload = withBody(body);
    return { app: route.app, method, path, headers: { ...auth, ...payload.headers }, body: payload.body };
  };
  /** A JSON body over the limit is refused by body-parser before anything else looks at it. */
  const sized = (kind: string, raw: RawRequest, expected: number[]): Case => ({
    kind,
    request: raw,
    // A malformed %-escape is refused by the router, before the body is read: its 400 may come first.
    expected: raw.body !== undefined && Buffer.byteLength(raw.body) > BODY_LIMIT ? (kind === 'path:bad-escape' ? [400, 413] : [413]) : expected,
  });
  /** Each kind of defect, weighted so that the cheap and broad ones do not crowd out the rest. */
  const kinds: Array<fc.WeightedArbitrary<Case>> = [];
  const add = (weight: number, arbitrary: fc.Arbitrary<Case>) => kinds.push({ arbitrary, weight });

  // The body is refused before routing code runs, whatever the token.
  const path = route.param
    ? fc.oneof(
        fc.constant(pathWith(route)),
        badId.map((id) => pathWith(route, id)),
      )
    : fc.constant(route.path);
  add(
    3,
    path.chain((p) => parserCase({ app: route.app, method: route.method, path: p }, anyAuth, route.dto)),
  );

  // The wrong method on the route's path: no such route (404), or one whose id pipe or guards
  // refuse it (DELETE /auth/sessions/revoke-all is DELETE /auth/sessions/:sessionId). Where the
  // other method is a route of its own taking the same body (PUT and POST /admin/users/:userId/role),
  // a valid body would be a valid request: only bodies it refuses are sent there.
  const otherMethods = ['GET', 'POST', 'DELETE', 'PUT', 'PATCH'].filter((method) => method !== route.method);
  add(
    1,
    fc
      .constantFrom(...otherMethods)
      .chain((method) => {
        const routed = matchesRoute(method, pathWith(route));
        const body = routed && route.dto ? fc.option(invalidBody(route.dto), { nil: undefined }) : anyObjectBody(route.dto);
        return fc.tuple(fc.constant(method), anyAuth, body);
      })
      .map(([method, auth, body]) => {
        const path = pathWith(route);
        return sized('method', request(method, path, auth, body), matchesRoute(method, path) ? [400, 401, 403] : [404]);
      }),
  );

  if (protectedRoute) {
    // A request perfect in every other way, or not, with a token that is not valid: 401.
    const anyPath = route.param
      ? fc.oneof(
          fc.constant(pathWith(route)),
          fc.oneof(badId, uuid).map((id) => pathWith(route, id)),
        )
      : fc.constant(route.path);
    const anyQuery = route.query ? fc.oneof(validQuery(route.query).map(queryText), invalidQuery(route.query)) : noiseQuery;
    add(
      3,
      fc
        .tuple(badAuthorization(fixture), anyPath, anyQuery, anyObjectBody(route.dto))
        .map(([auth, p, q, body]) => sized('auth:invalid-token', request(route.method, p + q, auth, body), [401])),
    );
    if (route.access === 'admin') {
      // A valid token of someone who is not an administrator: 403.
      add(
        2,
        fc
          .tuple(fc.constantFrom(fixture.user.accessToken, fixture.other.accessToken), anyPath, anyQuery, anyObjectBody(route.dto))
          .map(([token, p, q, body]) => sized('auth:not-admin', request(route.method, p + q, { Authorization: `Bearer ${token}` }, body), [403])),
      );
    }
  }

  if (route.dto) {
    const dto = route.dto;
    add(
      4,
      fc
        .tuple(goodAuth, invalidBody(dto), route.query ? validQuery(route.query).map(queryText) : noiseQuery)
        .map(([auth, body, q]) => sized('body', request(route.method, pathWith(route) + q, auth, body), [400])),
    );
  }

  if (route.param) {
    const withId = (kind: string, auth: fc.Arbitrary<Headers>, id: fc.Arbitrary<string>) =>
      fc.tuple(auth, id, anyObjectBody(route.dto)).map(([a, i, body]) => sized(kind, request(route.method, pathWith(route, i), a, body), [400]));
    add(2, withId('path:not-a-uuid', goodAuth, badId));
    // Refused while matching the route, before any guard: whatever the token.
    add(1, withId('path:bad-escape', anyAuth, malformedId));
  }

  if (route.query) {
    const params = route.query;
    add(
      4,
      fc.tuple(goodAuth, invalidQuery(params)).map(([auth, q]) => sized('query', request(route.method, pathWith(route) + q, auth, undefined), [400])),
    );
  }

  if (route.access === 'admin' && route.param) {
    // A well-formed id of nobody: 404. A read runs no command; a revocation's command refuses
    // it, audited as Attempted and Failed (user_not_found / session_not_found).
    const ids = realIds();
    const body = route.dto ? validBody(route.dto) : fc.constant(undefined);
    const query = route.query ? validQuery(route.query).map(queryText) : fc.constant('');
    add(
      2,
      fc
        .tuple(
          goodAuth,
          uuid.filter((id) => !ids.has(id)),
          body,
          query,
        )
        .map(([auth, id, b, q]) => sized('unknown-id', request(route.method, pathWith(route, id) + q, auth, b), [404]))
        .map((testCase): Case => {
          if (!route.command || testCase.expected[0] !== 404) return testCase;
          return {
            ...testCase,
            audits: route.command,
            request: { ...testCase.request, headers: { ...testCase.request.headers, 'User-Agent': COMMAND_AGENT } },
          };
        }),
    );
  }
  return fc.oneof(...kinds).map(describable);
}

/** fast-check prints a failing case with this: bodies and headers cut short. */
function describable(testCase: Case): Case {
  const { request } = testCase;
  const cut = (text: string) => (text.length > 300 ? `${text.slice(0, 300)}... (${text.length} characters)` : text);
  const headers = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, cut(value)]));
  const body = request.body === undefined ? '(no body)' : cut(JSON.stringify(request.body));
  const chunked = request.chunked ? ' chunked' : '';
  const text = `${testCase.kind} ${request.method} ${request.app}:${cut(request.path)} ${JSON.stringify(headers)}${chunked} ${body} expecting ${testCase.expected.join('|')}`;
  return Object.assign(Object.create(null) as object, testCase, { [fc.toStringMethod]: () => text });
}

// ---------------------------------------------------------------------------------------------

interface TableSnapshot {
  users: string;
  sessions: string;
  refreshTokens: string;
  auditIds: Set<string>;
}

async function snapshot(stack: TestStack): Promise<TableSnapshot> {
  const rows = async (table: string) => json(await sql(stack.databaseUrl, `SELECT to_jsonb(t)::text AS row FROM ${table} t ORDER BY id`));
  const audit = await sql<{ event_id: string }>(stack.databaseUrl, 'SELECT event_id FROM audit_entries');
  return {
    users: await rows('users'),
    sessions: await rows('sessions'),
    refreshTokens: await rows('refresh_tokens'),
    auditIds: new Set(audit.map((row) => row.event_id)),
  };
}

describe('bad input, generated: every route answers a 4xx problem and changes nothing', () => {
  let stack: TestStack;
  let before: TableSnapshot;
  /** Requests of the command property that reached their command, by audit action. */
  const audited = new Map<string, number>();
  const started = Date.now();

  beforeAll(async () => {
    stack = await startTestStack({ label: 'bad-input-e2e', admin: ADMIN });
    const admin = await login(stack, ADMIN.email, ADMIN.password);
    const [user] = await signUp(stack, 1, 'fuzz-user');
    const [other] = await signUp(stack, 1, 'fuzz-other');
    const [victim] = await signUp(stack, 1, 'fuzz-victim');
    const [revoked] = await signUp(stack, 1, 'fuzz-revoked');
    await stack
      .http()
      .post('/auth/logout')
      .set(...bearer(revoked.accessToken))
      .send({ refreshToken: revoked.refreshToken })
      .expect(200);
    fixture = { secret: stack.runtime.settings.sessions.accessTokenSecret, user, other, victim, admin, revokedAccessToken: revoked.accessToken };

    await stack.web.listen(0, '127.0.0.1');
    await stack.admin.listen(0, '127.0.0.1');
    ports.web = (stack.web.getHttpServer().address() as AddressInfo).port;
    ports.admin = (stack.admin.getHttpServer().address() as AddressInfo).port;
    await stack.settleAudit();
    before = await snapshot(stack);
  });

  afterAll(async () => {
    agent.destroy();
    await stack?.close();
    const byStatus = [...statusCounts.entries()]
      .sort(([a], [b]) => a - b)
      .map(([status, n]) => `${status}: ${n}`)
      .join(', ');
    const byKind = [...kindCounts.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([kind, n]) => `${kind} ${n}`)
      .join(', ');
    console.log(`bad-input: ${sent} generated requests in ${((Date.now() - started) / 1_000).toFixed(1)} s (${byStatus}; ${byKind})`);
  });

  describe.each(routes().map((route) => [`${route.method} ${route.path}`, route] as const))('%s', (_name, route) => {
    it(`answers ${RUNS_PER_ROUTE} generated bad requests with the 4xx problem their defect calls for`, async () => {
      await fc.assert(
        fc.asyncProperty(caseFor(route), async (testCase) => {
          await exchange(testCase);
          if (testCase.audits) audited.set(testCase.audits, (audited.get(testCase.audits) ?? 0) + 1);
        }),
        { numRuns: RUNS_PER_ROUTE, seed: SEED },
      );
    }, 120_000);
  });

  it('refuses well-formed requests for unknown accounts, tokens and sessions, auditing each as Attempted and Failed', async () => {
    const known = new Set([fixture.user.password, ADMIN.password]);
    const auth = { Authorization: `Bearer ${fixture.user.accessToken}` };
    const ids = realIds();
    const post = (path: string, body: unknown, headers: Record<string, string> = {}): RawRequest => ({
      app: 'web',
      method: 'POST',
      path,
      headers: { 'User-Agent': COMMAND_AGENT, ...jsonType, ...headers },
      body: json(body),
    });
    type Command = readonly [action: string, status: number, request: RawRequest];
    const command = (action: string, status: number, raw: RawRequest): Command => [action, status, raw];
    const commands: fc.Arbitrary<Command> = fc.oneof(
      fc
        .tuple(
          fc.oneof(
            fc.emailAddress().filter((email) => email.length <= 254),
            fc.constantFrom(fixture.user.email, fixture.user.email.toUpperCase()),
          ),
          fc.string({ minLength: 1, maxLength: 128 }).filter((pw) => !known.has(pw)),
        )
        .map(([email, password]) => command('user.login', 401, post('/auth/login', { email, password }))),
      refreshToken.map((token) => command('tokens.refresh', 401, post('/auth/refresh', { refreshToken: token }))),
      fc
        .tuple(fc.constantFrom(fixture.user.email, fixture.other.email, ADMIN.email), fc.string({ minLength: 8, maxLength: 128 }))
        // A password the policy accepts, so the only thing wrong is the taken email.
        .filter(([email, password]) => passwordProblem(password, { email }) === null)
        .map(([email, password]) => command('user.register', 409, post('/auth/register', { email: email.toUpperCase(), password }))),
      uuid
        .filter((id) => !ids.has(id))
        .map((id) =>
          command('session.revoke', 404, { app: 'web', method: 'DELETE', path: `/auth/sessions/${id}`, headers: { 'User-Agent': COMMAND_AGENT, ...auth } }),
        ),
      fc
        .tuple(
          fc.string({ minLength: 1, maxLength: 128 }).filter((pw) => !known.has(pw)),
          fc.string({ minLength: 8, maxLength: 128 }),
        )
        .map(([currentPassword, newPassword]) => command('user.password_change', 403, post('/auth/password', { currentPassword, newPassword }, auth))),
    );
    await fc.assert(
      fc.asyncProperty(commands, async ([action, status, raw]) => {
        const testCase: Case = { kind: `command:${action}`, request: raw, expected: [status] };
        await exchange(testCase);
        audited.set(action, (audited.get(action) ?? 0) + 1);
      }),
      { numRuns: COMMAND_RUNS, seed: SEED },
    );
  }, 120_000);

  it('left users, sessions and refresh tokens exactly as set up, and audited only the refused commands', async () => {
    await stack.settleAudit();
    const after = await snapshot(stack);
    expect(after.users).toBe(before.users);
    expect(after.sessions).toBe(before.sessions);
    expect(after.refreshTokens).toBe(before.refreshTokens);

    const rows = await sql<{ event_id: string; action: string; outcome: string; user_agent: string | null }>(
      stack.databaseUrl,
      'SELECT event_id, action, outcome, user_agent FROM audit_entries',
    );
    const added = rows.filter((row) => !before.auditIds.has(row.event_id));
    // Nothing from the invalid requests: each was refused before any command ran.
    expect(added.filter((row) => row.user_agent !== COMMAND_AGENT)).toEqual([]);
    const counted = (outcome: string) => {
      const counts = new Map<string, number>([...audited.keys()].map((action) => [action, 0]));
      for (const row of added.filter((r) => r.outcome === outcome)) counts.set(row.action, (counts.get(row.action) ?? 0) + 1);
      return Object.fromEntries(counts);
    };
    const expected = Object.fromEntries(audited);
    expect(counted('attempted')).toEqual(expected);
    expect(counted('failed')).toEqual(expected);
    expect(added.filter((row) => row.outcome === 'succeeded')).toEqual([]);
    expect(await brokenTriads(stack.databaseUrl)).toEqual([]);
    expect(sent).toBeGreaterThanOrEqual(Math.min(10_000, routes().length * RUNS_PER_ROUTE + COMMAND_RUNS));
  });
});
