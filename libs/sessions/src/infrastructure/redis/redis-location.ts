/**
 * `redis://host:port/db` of a node-redis client (v4 and v5 keep their options), never its
 * credentials: with the key prefix, the name of a cache namespace. Two names for one server give
 * two namespaces, which only duplicates markers; one name for two servers (another region, same
 * address) would lose them, so the address is as configured.
 */
export function redisLocation(client: unknown): string {
  const options = (client as { options?: { url?: string; database?: number; socket?: { host?: string; port?: number; path?: string } } }).options;
  const socket = options?.socket;
  let host = socket?.path ?? (socket?.host ? `${socket.host}:${socket.port ?? 6379}` : undefined);
  let database = options?.database;
  if (!host && options?.url) {
    try {
      const url = new URL(options.url);
      host = `${url.hostname}:${url.port || 6379}`;
      database ??= Number(url.pathname.slice(1)) || 0;
    } catch {
      host = undefined;
    }
  }
  return `redis://${host ?? 'unknown'}/${database ?? 0}`;
}
