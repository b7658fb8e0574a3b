import { loggedUrl, requestLogLevel } from './request-logging';

describe('request lines', () => {
  it.each([
    [200, 'info'],
    [204, 'info'],
    [301, 'info'],
    [400, 'warn'],
    [401, 'info'],
    [403, 'warn'],
    [404, 'info'],
    [409, 'warn'],
    [415, 'warn'],
    [429, 'warn'],
    [500, 'error'],
    [503, 'error'],
  ])('logs a %i at %s', (status, level) => {
    expect(requestLogLevel(status, '/auth/login')).toBe(level);
  });

  it('logs the health probes at debug while they pass and warn when they fail', () => {
    for (const path of ['/health', '/health/live', '/health/ready']) {
      expect(requestLogLevel(200, path)).toBe('debug');
      expect(requestLogLevel(503, path)).toBe('warn');
    }
    expect(requestLogLevel(503, '/healthy')).toBe('error');
  });

  it('redacts the values of query parameters that look secret, and leaves the rest', () => {
    expect(loggedUrl('/auth/me')).toBe('/auth/me');
    expect(loggedUrl('/admin/audit?userId=1&limit=5')).toBe('/admin/audit?userId=1&limit=5');
    expect(loggedUrl('/auth/me?access_token=eyJ.x.y')).toBe('/auth/me?access_token=%5BRedacted%5D');
    expect(loggedUrl('/x?Password=hunter2&refreshToken=abc&a=1')).toBe('/x?Password=%5BRedacted%5D&refreshToken=%5BRedacted%5D&a=1');
    expect(loggedUrl('/cb?code=abc&state=s')).toBe('/cb?code=%5BRedacted%5D&state=s');
  });
});
