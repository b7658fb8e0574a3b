import { parseDevice } from './device';

describe('parseDevice', () => {
  it.each([
    [
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.130 Safari/537.36',
      { browser: 'Chrome 120', os: 'Windows 10', type: null },
    ],
    [
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1',
      { browser: 'Mobile Safari 17', os: 'iOS 17.1', type: 'mobile' },
    ],
    ['Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0', { browser: 'Firefox 121', os: 'Linux', type: null }],
    ['curl/8.5.0', { browser: null, os: null, type: null }],
    ['<script>alert(1)</script>', { browser: null, os: null, type: null }],
  ])('reads %s', (userAgent, expected) => {
    expect(parseDevice(userAgent)).toEqual(expected);
  });

  it('answers nulls without a User-Agent', () => {
    expect(parseDevice(null)).toEqual({ browser: null, os: null, type: null });
    expect(parseDevice('')).toEqual({ browser: null, os: null, type: null });
  });
});
