import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RuntimeMetrics } from './runtime-metrics';

export interface MetricsListener {
  /** The port it listens on (the one chosen when METRICS_PORT=0). */
  readonly port: number;
  readonly host: string;
  close(): Promise<void>;
}

/**
 * `GET /metrics` on a listener of its own, never on an app's port, so that an operator keeps it
 * private by where it listens (127.0.0.1 by default) instead of by a rule at the edge. Plain
 * node:http: it works the same whatever framework the apps run on. Any other path is a 404 and
 * any other method a 405, as problem+json like every answer of the service.
 */
export async function startMetricsListener(metrics: RuntimeMetrics, host: string, port: number): Promise<MetricsListener> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path !== '/metrics') return problem(response, 404, 'Not Found', 'Metrics are at /metrics.');
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('Allow', 'GET, HEAD');
      return problem(response, 405, 'Method Not Allowed', 'GET /metrics.');
    }
    metrics.scrape().then(
      ({ contentType, body }) => {
        response.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
        response.end(request.method === 'HEAD' ? undefined : body);
      },
      (error: unknown) => problem(response, 500, 'Internal Server Error', `The metrics could not be collected: ${(error as Error).message}`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  let closing: Promise<void> | undefined;
  return {
    port: (server.address() as AddressInfo).port,
    host,
    close() {
      // A scraper's keep-alive connection must not hold the shutdown.
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}

function problem(response: import('node:http').ServerResponse, status: number, title: string, detail: string): void {
  response.writeHead(status, { 'Content-Type': 'application/problem+json', 'Cache-Control': 'no-store' });
  response.end(JSON.stringify({ type: 'about:blank', title, status, detail }));
}
