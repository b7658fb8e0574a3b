import { createClient } from '@keyv/redis';
import http from 'node:http';

/**
 * The bench's floor for GET /auth/me: a bare `node:http` server that does one Redis GET per
 * request and answers a small JSON, with the Redis client the service itself uses (node-redis,
 * `@redis/client`, re-exported by @keyv/redis). Nothing else: no framework, no routing, no
 * token check, no logging. Whatever a session check costs on top of one cache read shows as the
 * distance to this row. Started by bench/peers.ts as a child process:
 * PORT, REDIS_URL and FLOOR_KEY (a key the bench wrote) come from the environment.
 */
async function main(): Promise<void> {
  const { PORT, REDIS_URL, FLOOR_KEY } = process.env;
  if (!PORT || !REDIS_URL || !FLOOR_KEY) throw new Error('PORT, REDIS_URL and FLOOR_KEY must be set');
  const redis = createClient({ url: REDIS_URL });
  redis.on('error', (error: Error) => console.error(`redis: ${error.message}`));
  await redis.connect();

  const server = http.createServer((request, response) => {
    if (request.url === '/health') {
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    redis.get(FLOOR_KEY).then(
      (value) => {
        if (value === null) {
          response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"no such key"}');
          return;
        }
        const body = JSON.stringify({ session: 'active', user: JSON.parse(value) as unknown });
        response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
      },
      (error: Error) => {
        response.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ error: error.message }));
      },
    );
  });
  server.keepAliveTimeout = 60_000;
  server.listen(Number(PORT), '127.0.0.1');

  process.once('SIGTERM', () => {
    server.close();
    server.closeAllConnections();
    void redis.quit().finally(() => process.exit(0));
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
