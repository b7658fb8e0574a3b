import { isIP } from 'node:net';
import { ValidateBy, ValidationArguments } from 'class-validator';

/**
 * Conversions (for class-transformer's @Transform) and checks (class-validator decorators) for
 * environment variables. A conversion keeps a value it cannot convert as the original string, so
 * the check that rejects it can quote exactly what the operator wrote.
 */

/** `(got "abc")`, shortened so a pasted blob does not flood the log. Never used for secrets. */
export function got(value: unknown): string {
  const text = typeof value === 'string' ? value : String(value);
  return `(got ${JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text)})`;
}

export function toInteger(value: unknown): unknown {
  if (typeof value !== 'string' || !/^-?\d{1,15}$/.test(value)) return value;
  return Number(value);
}

/**
 * Express's `trust proxy` setting, as this service allows it: false (no proxy), a number of hops,
 * or proxy addresses and subnets separated by commas (Express splits the string itself). `true`
 * is not allowed: it trusts every X-Forwarded-For entry, so a client would choose the address the
 * audit trail records and the per-IP limits count.
 */
export type TrustProxy = false | number | string;

export function toTrustProxy(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const lower = value.trim().toLowerCase();
  // Kept as a boolean so that the check can refuse `true` with its own message.
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  if (/^\d+$/.test(lower)) return toInteger(lower);
  return value
    .split(',')
    .map((entry) => entry.trim())
    .join(',');
}

/** `true` and `false` in any case; anything else stays a string for the check to quote. */
export function toBoolean(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const lower = value.trim().toLowerCase();
  return lower === 'true' ? true : lower === 'false' ? false : value;
}

export function IsBooleanFlag(): PropertyDecorator {
  return ValidateBy({
    name: 'isBooleanFlag',
    validator: {
      validate: (value: unknown) => typeof value === 'boolean',
      defaultMessage: (args?: ValidationArguments) => `${args?.property} must be true or false ${got(args?.value)}`,
    },
  });
}

export function IsIntegerInRange(min: number, max?: number): PropertyDecorator {
  const range = max === undefined ? `of at least ${min}` : `between ${min} and ${max}`;
  return ValidateBy({
    name: 'isIntegerInRange',
    validator: {
      validate: (value: unknown) => typeof value === 'number' && Number.isSafeInteger(value) && value >= min && (max === undefined || value <= max),
      defaultMessage: (args?: ValidationArguments) => `${args?.property} must be an integer ${range} ${got(args?.value)}`,
    },
  });
}

/**
 * A URL with one of the given schemes. The message names the scheme found but never echoes the
 * value: connection URLs carry passwords.
 */
export function IsUrlWithScheme(schemes: readonly string[]): PropertyDecorator {
  const allowed = schemes.map((scheme) => `${scheme}:`);
  const wanted = schemes.map((scheme) => `${scheme}://`).join(' or ');
  const schemeOf = (value: unknown): string | undefined => {
    try {
      return typeof value === 'string' ? new URL(value).protocol : undefined;
    } catch {
      return undefined;
    }
  };
  return ValidateBy({
    name: 'isUrlWithScheme',
    validator: {
      validate: (value: unknown) => allowed.includes(schemeOf(value) ?? ''),
      defaultMessage: (args?: ValidationArguments) => {
        const scheme = schemeOf(args?.value);
        const found = scheme === undefined ? 'a value that is not a URL' : `a "${scheme}//" URL`;
        return `${args?.property} must be a ${wanted} URL (got ${found}; the value is not shown as it may hold a password)`;
      },
    },
  });
}

const PROXY_ADDR_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** An address, a CIDR subnet, or one of proxy-addr's names, as Express's `trust proxy` list accepts. */
function isProxyAddress(entry: string): boolean {
  if (PROXY_ADDR_NAMES.has(entry) || isIP(entry) !== 0) return true;
  const match = /^([^/]+)\/(\d{1,3})$/.exec(entry);
  if (!match) return false;
  const family = isIP(match[1]);
  const bits = Number(match[2]);
  return (family === 4 && bits <= 32) || (family === 6 && bits <= 128);
}

export function IsTrustProxy(): PropertyDecorator {
  const badEntries = (value: unknown): string[] => (typeof value === 'string' ? value.split(',').filter((entry) => !isProxyAddress(entry)) : []);
  return ValidateBy({
    name: 'isTrustProxy',
    validator: {
      validate: (value: unknown) =>
        value === false ||
        (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) ||
        (typeof value === 'string' && badEntries(value).length === 0),
      defaultMessage: (args?: ValidationArguments) =>
        args?.value === true
          ? `${args.property}=true is not allowed: it trusts every X-Forwarded-For entry, so clients would choose the IP address the audit trail records and the per-IP limits count; set the number of proxies in front of the service, or their addresses or CIDR subnets`
          : `${args?.property} must be false, a number of hops, or a comma-separated list of IP addresses or CIDR subnets ${got(badEntries(args?.value).join(','))}`,
    },
  });
}

/** The size syntax of the `bytes` package, which body-parser uses for its `limit`. */
export function IsByteSize(): PropertyDecorator {
  return ValidateBy({
    name: 'isByteSize',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && /^\d+(\.\d+)?\s*(b|kb|mb|gb|tb|pb)?$/i.test(value),
      defaultMessage: (args?: ValidationArguments) => `${args?.property} must be a size such as 16kb, 1mb or a number of bytes ${got(args?.value)}`,
    },
  });
}

/**
 * Holds only when both values are integers, so an invalid other value is reported once, by its
 * own check. `orEqual` also accepts the same value.
 */
export function IsGreaterThanProperty(other: string, { orEqual = false }: { orEqual?: boolean } = {}): PropertyDecorator {
  const otherValue = (args: ValidationArguments): unknown => (args.object as Record<string, unknown>)[other];
  return ValidateBy({
    name: orEqual ? 'isAtLeastProperty' : 'isGreaterThanProperty',
    validator: {
      validate: (value: unknown, args?: ValidationArguments) => {
        const limit = args ? otherValue(args) : undefined;
        return typeof value !== 'number' || typeof limit !== 'number' || value > limit || (orEqual && value === limit);
      },
      defaultMessage: (args?: ValidationArguments) =>
        `${args?.property} must be ${orEqual ? 'at least' : 'greater than'} ${other} (got ${String(args?.value)}, ${other} is ${String(args && otherValue(args))})`,
    },
  });
}

/**
 * The value is below another numeric variable's; not compared when the other is outside its own
 * range [min, max] (that variable's own problem is the one to fix).
 */
export function IsLessThanProperty(other: string, [min, max]: readonly [number, number]): PropertyDecorator {
  const otherValue = (args: ValidationArguments): unknown => (args.object as Record<string, unknown>)[other];
  return ValidateBy({
    name: 'isLessThanProperty',
    validator: {
      validate: (value: unknown, args?: ValidationArguments) => {
        const limit = args ? otherValue(args) : undefined;
        return typeof value !== 'number' || typeof limit !== 'number' || limit < min || limit > max || value < limit;
      },
      defaultMessage: (args?: ValidationArguments) =>
        `${args?.property} must be less than ${other} (got ${String(args?.value)}, ${other} is ${String(args && otherValue(args))})`,
    },
  });
}

/**
 * Why one entry of an origin list cannot be a browser's `Origin`, or undefined when it can. The
 * entry must be written exactly as browsers send it: `scheme://host[:port]` with an http or https
 * scheme, a lower-case host, no default port, no path, query, fragment or credentials.
 */
export function originProblem(entry: string): string | undefined {
  if (entry === '*') return 'a wildcard: list each origin that may call the API';
  if (entry === '') return 'an empty entry';
  if (entry.toLowerCase() === 'null') return '"null" (sandboxed and file pages, which any page can make)';
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    return `"${entry}", which is not scheme://host[:port]`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `"${entry}", whose scheme is not http or https`;
  if (url.origin === entry) return undefined;
  const extra = url.username || url.password ? 'credentials' : url.search || url.hash || url.pathname !== '/' ? 'a path' : undefined;
  return extra ? `"${entry}", which has ${extra} (an origin is scheme://host[:port] only)` : `"${entry}", which a browser sends as "${url.origin}"`;
}

/** The list as the setting holds it: comma-separated, blanks around entries ignored; none when empty. */
export function toOriginList(value: string | undefined): string[] {
  return value === undefined ? [] : value.split(',').map((entry) => entry.trim());
}

/** A comma-separated list of exact origins (see originProblem); each refused entry is named. */
export function IsOriginList(): PropertyDecorator {
  const problems = (value: unknown): string[] =>
    typeof value === 'string' ? toOriginList(value).flatMap((entry) => originProblem(entry) ?? []) : ['not a string'];
  return ValidateBy({
    name: 'isOriginList',
    validator: {
      validate: (value: unknown) => problems(value).length === 0,
      defaultMessage: (args?: ValidationArguments) =>
        `${args?.property} must be a comma-separated list of exact origins such as https://app.example.com or http://localhost:5173; refused: ${problems(args?.value).join('; ')}`,
    },
  });
}
