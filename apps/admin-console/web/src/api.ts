/**
 * The page's one door to the REST API under /admin. The console session is an HttpOnly cookie
 * the page never sees; what it holds is the session's CSRF token, in this module's memory only
 * (never in localStorage, sessionStorage or a cookie it writes), sent as X-CSRF-Token on every
 * unsafe request. A reload asks GET /admin/auth/session for it again.
 */

export interface ConsoleUser {
  readonly id: string;
  readonly email: string;
  readonly role: 'user' | 'admin';
}

/** The body of POST /admin/auth/login and GET /admin/auth/session. */
export interface ConsoleSession {
  readonly user: ConsoleUser;
  readonly sessionId: string;
  readonly expiresAt: string;
  readonly csrfToken: string;
  readonly reauthenticatedUntil: string | null;
  /** How long an access token lives: the last one of a session ended now would have expired by now + this. */
  readonly accessTokenTtlSeconds: number;
}

/** An answer that was not 2xx, read from its problem+json body (RFC 9457) when it has one. */
export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    /** The problem's `detail`, else its `title`, else the status line: what the page shows. */
    readonly detail: string,
    readonly code: string | undefined,
    readonly requestId: string | null,
  ) {
    super(detail);
    this.name = 'ApiProblem';
  }
}

/** A 2xx answer: its body (undefined for 204) and the X-Request-Id the receipt links to the audit trail with. */
export interface ApiAnswer<T> {
  readonly body: T;
  readonly requestId: string | null;
}

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** Routes whose 401 means "wrong credentials", answered where they were asked, not "signed out". */
const CREDENTIAL_ROUTES = new Set(['/admin/auth/login', '/admin/auth/reauthenticate', '/admin/auth/session']);

export interface ApiHooks {
  /** Any other 401: the console session is gone (ended, expired, revoked); back to sign-in. */
  onSignedOut(): void;
  /**
   * A step-up is asked (403 `reauthentication_required`): resolves true once the admin re-entered
   * the password (POST /admin/auth/reauthenticate succeeded), false when they cancelled.
   */
  reauthenticate(): Promise<boolean>;
}

let csrfToken: string | null = null;
let hooks: ApiHooks = { onSignedOut: () => undefined, reauthenticate: async () => false };

export function setApiHooks(next: ApiHooks): void {
  hooks = next;
}

/** Keeps (or, signed out, forgets) the CSRF token of the console session. */
export function holdSession(session: ConsoleSession | null): void {
  csrfToken = session?.csrfToken ?? null;
}

async function send(method: Method, path: string, body: unknown): Promise<Response> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrfToken !== null) headers['X-CSRF-Token'] = csrfToken;
  return fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
    cache: 'no-store',
    redirect: 'error',
  });
}

async function problemOf(response: Response): Promise<ApiProblem> {
  const requestId = response.headers.get('X-Request-Id');
  let detail = `${response.status} ${response.statusText}`.trim();
  let code: string | undefined;
  try {
    const parsed = (await response.json()) as { detail?: unknown; title?: unknown; code?: unknown };
    if (typeof parsed.detail === 'string' && parsed.detail !== '') detail = parsed.detail;
    else if (typeof parsed.title === 'string' && parsed.title !== '') detail = parsed.title;
    if (typeof parsed.code === 'string') code = parsed.code;
  } catch {
    // Not JSON (a proxy's error page): the status line says what there is to say.
  }
  return new ApiProblem(response.status, detail, code, requestId);
}

/**
 * One call. A 403 asking for a step-up opens the password dialog and, once it succeeded, repeats
 * the call once; a 401 outside the credential routes signs the page out. Throws ApiProblem.
 */
export async function call<T = undefined>(method: Method, path: string, body?: unknown): Promise<ApiAnswer<T>> {
  let response = await send(method, path, body);
  if (response.status === 403) {
    const problem = await problemOf(response.clone());
    if (problem.code === 'reauthentication_required') {
      if (!(await hooks.reauthenticate())) throw problem;
      response = await send(method, path, body);
    }
  }
  if (!response.ok) {
    const problem = await problemOf(response);
    if (problem.status === 401 && !CREDENTIAL_ROUTES.has(path)) hooks.onSignedOut();
    throw problem;
  }
  const requestId = response.headers.get('X-Request-Id');
  const text = await response.text();
  return { body: (text === '' ? undefined : JSON.parse(text)) as T, requestId };
}

export async function get<T>(path: string): Promise<T> {
  return (await call<T>('GET', path)).body;
}

/** A message for anything a call threw: a problem's detail, or what the network said. */
export function describeError(error: unknown): string {
  if (error instanceof ApiProblem) return error.detail;
  if (error instanceof Error) return `The request failed: ${error.message}`;
  return 'The request failed';
}
