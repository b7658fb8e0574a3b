import { UAParser } from 'ua-parser-js';

/** What an operator reads of a User-Agent; null for what the parser cannot tell. */
export interface Device {
  /** Name and major version, e.g. "Chrome 120". */
  readonly browser: string | null;
  /** Name and version, e.g. "Windows 10", "iOS 17.1". */
  readonly os: string | null;
  /** ua-parser-js's device type: mobile, tablet, smarttv, wearable, console, embedded, xr; null for a desktop or anything unknown. */
  readonly type: string | null;
}

/**
 * ua-parser-js 1.0 (MIT; 2.x is AGPL) reads the User-Agent: a hand-written parser would be wrong
 * for most browsers within a year. The raw User-Agent stays beside it in the view.
 */
export function parseDevice(userAgent: string | null): Device {
  if (!userAgent) return { browser: null, os: null, type: null };
  const { browser, os, device } = new UAParser(userAgent).getResult();
  return { browser: joined(browser.name, browser.major), os: joined(os.name, os.version), type: device.type ?? null };
}

function joined(name: string | undefined, version: string | undefined): string | null {
  if (!name) return null;
  return version ? `${name} ${version}` : name;
}
