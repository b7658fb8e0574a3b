import { canonicalIp, clientIp } from './client-ip';

describe('clientIp', () => {
  it.each([
    ['203.0.113.9', '203.0.113.9'],
    ['::ffff:127.0.0.1', '127.0.0.1'],
    ['::FFFF:198.51.100.7', '198.51.100.7'],
    ['::ffff:c633:6407', '198.51.100.7'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['fe80::1%eth0', 'fe80::1'],
    ['::1', '::1'],
  ])('canonicalizes %p to %p', (input, expected) => {
    expect(canonicalIp(input)).toBe(expected);
  });

  it.each(['x'.repeat(100), 'unknown', '203.0.113.9:443', '1.2.3.04', '', ' 203.0.113.9', '[::1]', 'fe80::g'])('accepts only IP addresses, not %p', (input) => {
    expect(canonicalIp(input)).toBeUndefined();
  });

  it('uses the socket address when the derived one is not an IP address, and canonicalizes it', () => {
    expect(clientIp({ ip: 'x'.repeat(100), socket: { remoteAddress: '::ffff:10.0.0.5' } })).toBe('10.0.0.5');
    expect(clientIp({ ip: undefined, socket: { remoteAddress: '10.0.0.5' } })).toBe('10.0.0.5');
    expect(clientIp({ ip: '198.51.100.1', socket: { remoteAddress: '10.0.0.5' } })).toBe('198.51.100.1');
    expect(clientIp({ ip: 'garbage', socket: {} })).toBeNull();
  });
});
