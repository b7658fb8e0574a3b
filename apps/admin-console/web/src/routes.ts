/**
 * The page's places, kept in the URL's fragment (`#/users?query=ann`, `#/users/<id>`,
 * `#/audit?userId=…`, `#/overview`): a link or a reload lands on the same view, the browser's
 * back button works, and the server only ever serves `/`. No router library: four routes.
 */

/** The audit trail's filters, as GET /admin/audit and /admin/audit/export take them. */
export const AUDIT_FILTER_KEYS = ['userId', 'actorId', 'action', 'outcome', 'ipAddress', 'sessionId', 'correlationId', 'requestId', 'from', 'to'] as const;
export type AuditFilterKey = (typeof AUDIT_FILTER_KEYS)[number];
export type AuditFilters = Partial<Record<AuditFilterKey, string>>;

export const USER_STATUSES = ['active', 'disabled', 'locked'] as const;
export type UserStatus = (typeof USER_STATUSES)[number];

export interface UserSearch {
  readonly query?: string;
  readonly status?: UserStatus;
}

export type Route =
  | { readonly name: 'users'; readonly search: UserSearch }
  | { readonly name: 'user'; readonly userId: string }
  | { readonly name: 'audit'; readonly filters: AuditFilters }
  | { readonly name: 'overview' };

/** `?a=1&b=` → the non-empty values, trimmed; anything else in the fragment is ignored. */
function parameters(search: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const [key, value] of new URLSearchParams(search)) {
    const trimmed = value.trim();
    if (trimmed !== '') found.set(key, trimmed);
  }
  return found;
}

/** What a location fragment (`location.hash`, with or without its `#`) shows; the user list when it names nothing known. */
export function parseRoute(hash: string): Route {
  const fragment = hash.startsWith('#') ? hash.slice(1) : hash;
  const queryAt = fragment.indexOf('?');
  const path = queryAt === -1 ? fragment : fragment.slice(0, queryAt);
  const query = parameters(queryAt === -1 ? '' : fragment.slice(queryAt + 1));
  const segments = path.split('/').filter((segment) => segment !== '');
  if (segments[0] === 'users' && segments.length === 2) return { name: 'user', userId: decodeURIComponent(segments[1]) };
  if (segments[0] === 'audit' && segments.length === 1) {
    const filters: AuditFilters = {};
    for (const key of AUDIT_FILTER_KEYS) {
      const value = query.get(key);
      if (value !== undefined) filters[key] = value;
    }
    return { name: 'audit', filters };
  }
  if (segments[0] === 'overview' && segments.length === 1) return { name: 'overview' };
  const status = query.get('status');
  return {
    name: 'users',
    search: { query: query.get('query'), status: USER_STATUSES.find((known) => known === status) },
  };
}

/** `?key=value&…` of the values that are set and not blank, in the order given; '' when none is. */
export function queryString(values: Readonly<Record<string, string | number | undefined | null>>): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined || value === null) continue;
    const text = String(value).trim();
    if (text !== '') query.set(key, text);
  }
  const encoded = query.toString();
  return encoded === '' ? '' : `?${encoded}`;
}

/** The fragment of a route, for links (`href`) and `location.hash`. */
export function routeHref(route: Route): string {
  switch (route.name) {
    case 'users':
      return `#/users${queryString({ query: route.search.query, status: route.search.status })}`;
    case 'user':
      return `#/users/${encodeURIComponent(route.userId)}`;
    case 'audit':
      return `#/audit${queryString(route.filters)}`;
    case 'overview':
      return '#/overview';
  }
}

/** The link to the audit entries of these filters (`auditHref({ requestId })` for an action's receipt). */
export function auditHref(filters: AuditFilters): string {
  return routeHref({ name: 'audit', filters });
}

export function userHref(userId: string): string {
  return routeHref({ name: 'user', userId });
}

/**
 * A `datetime-local` input's value (local wall-clock time, no zone) as an ISO 8601 instant, or
 * undefined when it is blank or not a time. The audit API takes instants; people type local time.
 */
export function localInputToIso(value: string): string | undefined {
  if (value.trim() === '') return undefined;
  const time = new Date(value);
  return Number.isNaN(time.getTime()) ? undefined : time.toISOString();
}

/** The reverse of localInputToIso, for showing a filter's instant in the form: `YYYY-MM-DDTHH:mm` in local time. */
export function isoToLocalInput(iso: string | undefined): string {
  if (iso === undefined) return '';
  const time = new Date(iso);
  if (Number.isNaN(time.getTime())) return '';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${time.getFullYear()}-${pad(time.getMonth() + 1)}-${pad(time.getDate())}T${pad(time.getHours())}:${pad(time.getMinutes())}`;
}
