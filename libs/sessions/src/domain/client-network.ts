import { isIP } from 'node:net';

/**
 * The network a client is counted as, for failed logins: an IPv4 address as it is, an IPv6
 * address by its /64 (the block one subscriber is usually given, so rotating through it does
 * not buy fresh attempts), IPv4-mapped IPv6 as the IPv4 address. A missing or unparseable
 * address is one network, `unknown`.
 */
export function clientNetwork(ipAddress: string | null | undefined): string {
  if (!ipAddress) return 'unknown';
  const zone = ipAddress.indexOf('%');
  const bare = zone === -1 ? ipAddress : ipAddress.slice(0, zone);
  const version = isIP(bare);
  if (version === 4) return bare;
  if (version !== 6) return 'unknown';
  const hextets = ipv6Hextets(bare.toLowerCase());
  if (hextets.slice(0, 5).every((h) => h === 0) && hextets[5] === 0xffff) {
    return [hextets[6] >> 8, hextets[6] & 0xff, hextets[7] >> 8, hextets[7] & 0xff].join('.');
  }
  return `${hextets
    .slice(0, 4)
    .map((h) => h.toString(16))
    .join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address (net.isIP said so). */
function ipv6Hextets(address: string): number[] {
  // A dotted IPv4 tail becomes its two hex groups, so one parser handles every form.
  const text = address.replace(
    /(\d+)\.(\d+)\.(\d+)\.(\d+)$/,
    (_, a, b, c, d) => `${((Number(a) << 8) | Number(b)).toString(16)}:${((Number(c) << 8) | Number(d)).toString(16)}`,
  );
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((h) => parseInt(h, 16)));
  const gap = text.indexOf('::');
  if (gap === -1) return parse(text);
  const head = parse(text.slice(0, gap));
  const rest = parse(text.slice(gap + 2));
  return [...head, ...new Array<number>(8 - head.length - rest.length).fill(0), ...rest];
}
