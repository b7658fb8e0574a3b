import { describe, expect, it } from '@jest/globals';
import { auditHref, isoToLocalInput, localInputToIso, parseRoute, queryString, routeHref, type Route } from './routes';

describe('parseRoute', () => {
  it('reads the four places of the page from the fragment', () => {
    expect(parseRoute('#/users?query=ann&status=locked')).toEqual({ name: 'users', search: { query: 'ann', status: 'locked' } });
    expect(parseRoute('#/users/0b7c4a52-1f0e-4a8f-9a38-6a9c3c1d2e11')).toEqual({ name: 'user', userId: '0b7c4a52-1f0e-4a8f-9a38-6a9c3c1d2e11' });
    expect(parseRoute('#/audit?requestId=req-1&outcome=failed&from=2026-12-01T00:00:00.000Z')).toEqual({
      name: 'audit',
      filters: { requestId: 'req-1', outcome: 'failed', from: '2026-12-01T00:00:00.000Z' },
    });
    expect(parseRoute('#/overview')).toEqual({ name: 'overview' });
  });

  it('falls back to the user list, and drops what it does not know or what is blank', () => {
    expect(parseRoute('')).toEqual({ name: 'users', search: { query: undefined, status: undefined } });
    expect(parseRoute('#/nowhere/at/all')).toEqual({ name: 'users', search: { query: undefined, status: undefined } });
    expect(parseRoute('#/users?status=deleted&query=%20%20')).toEqual({ name: 'users', search: { query: undefined, status: undefined } });
    expect(parseRoute('#/audit?userId=&secret=1&action=user.login')).toEqual({ name: 'audit', filters: { action: 'user.login' } });
  });

  it('round-trips every route through its href, awkward characters included', () => {
    const routes: Route[] = [
      { name: 'users', search: { query: 'a+b&c=d@example.com', status: 'disabled' } },
      { name: 'user', userId: 'id/with?odd#chars' },
      { name: 'audit', filters: { ipAddress: '2001:db8::1', requestId: 'a b' } },
      { name: 'overview' },
    ];
    for (const route of routes) expect(parseRoute(routeHref(route))).toEqual(route);
  });
});

describe('queryString', () => {
  it('keeps set, non-blank values in order, encoded', () => {
    expect(queryString({ query: 'x@y.z', status: undefined, limit: 25, cursor: null, blank: ' ' })).toBe('?query=x%40y.z&limit=25');
    expect(queryString({})).toBe('');
  });

  it('gives the receipt its audit link by request id', () => {
    expect(auditHref({ requestId: '4e9c93e2-9823' })).toBe('#/audit?requestId=4e9c93e2-9823');
  });
});

describe('datetime-local values and instants', () => {
  it('turns a local wall-clock time into the instant it is here, and back', () => {
    const iso = localInputToIso('2026-12-01T09:30');
    expect(iso).toBe(new Date(2026, 11, 1, 9, 30).toISOString());
    expect(isoToLocalInput(iso)).toBe('2026-12-01T09:30');
  });

  it('treats blank or malformed input as no filter', () => {
    expect(localInputToIso('')).toBeUndefined();
    expect(localInputToIso('not a time')).toBeUndefined();
    expect(isoToLocalInput(undefined)).toBe('');
    expect(isoToLocalInput('garbage')).toBe('');
  });
});
