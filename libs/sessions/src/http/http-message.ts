import type { ClientAddressSource } from './client-ip';

/**
 * What the guards and decorators read of a request: the parts Express and Fastify requests share
 * (Node's lower-cased `headers`, `ip`, `socket`), so neither adapter's types reach a host.
 */
export interface HttpRequestLike extends ClientAddressSource {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** A header's value, or undefined when absent or sent more than once. */
export function headerValue(request: HttpRequestLike, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return typeof value === 'string' ? value : undefined;
}

/** Express' response and Fastify's reply both have `header(name, value)`; a bare Node response has `setHeader`. */
interface HeaderTarget {
  header?(name: string, value: string): unknown;
  setHeader?(name: string, value: string): unknown;
}

/**
 * Sets a response header on whichever response object the adapter hands out. An adapter with
 * neither method gets the answer without the header: better than turning a 401 into a 500.
 */
export function setResponseHeader(response: unknown, name: string, value: string): void {
  const target = response as HeaderTarget | null | undefined;
  if (typeof target?.header === 'function') target.header(name, value);
  else if (typeof target?.setHeader === 'function') target.setHeader(name, value);
}
