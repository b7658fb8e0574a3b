import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { startTestStack, type TestStack } from '../support/test-app';

jest.setTimeout(60_000);

const HEADERS_TIMEOUT_MS = 400;
const REQUEST_TIMEOUT_MS = 800;
/** What the test allows on top of a timeout: Node's check interval (here 100 ms) and a loaded machine. */
const SLACK_MS = 1_500;

interface Closed {
  readonly elapsedMs: number;
  readonly answer: string;
}

/**
 * Opens a raw connection, lets `send` write (part of) a request, and resolves when the server
 * closes it; rejects if it is still open after `boundMs` (Node's own default would be 300 s).
 */
function whenServerCloses(port: number, send: (socket: net.Socket) => void, boundMs: number): Promise<Closed> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    let answer = '';
    const socket = net.connect(port, '127.0.0.1', () => send(socket));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server still held the connection after ${boundMs} ms`));
    }, boundMs);
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('utf8')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ elapsedMs: Date.now() - started, answer });
    });
  });
}

/**
 * A client that sends its request slowly (slowloris) or stops halfway cannot hold a connection
 * longer than HTTP_HEADERS_TIMEOUT_MS / HTTP_REQUEST_TIMEOUT_MS: the server answers 408 and
 * closes it (issue 8 #21). The timeouts are short here; the defaults are 10 s and 30 s.
 */
describe('slow requests', () => {
  let stack: TestStack;
  let port: number;
  const drips: NodeJS.Timeout[] = [];

  beforeAll(async () => {
    stack = await startTestStack({
      label: 'slow-requests',
      settings: {
        http: { host: '127.0.0.1', bodyLimit: '16kb', trustProxy: false, headersTimeoutMs: HEADERS_TIMEOUT_MS, requestTimeoutMs: REQUEST_TIMEOUT_MS },
      },
    });
    await stack.web.listen(0, '127.0.0.1');
    port = (stack.web.getHttpServer().address() as AddressInfo).port;
  });

  afterAll(async () => {
    for (const drip of drips) clearInterval(drip);
    await stack?.close();
  });

  const head = (length: number) => `POST /auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;

  function expect408(closed: Closed, timeoutMs: number): void {
    expect(closed.answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(closed.answer).toContain('Content-Type: application/problem+json');
    expect(closed.answer).toContain('"detail":"The request took too long to arrive"');
    expect(closed.elapsedMs).toBeGreaterThanOrEqual(timeoutMs - 50);
    expect(closed.elapsedMs).toBeLessThan(timeoutMs + SLACK_MS);
  }

  it('closes a connection whose body stops halfway within the request timeout', async () => {
    const body = JSON.stringify({ email: 'half@example.com', password: 'half a body is never enough' });
    const closed = await whenServerCloses(port, (socket) => socket.write(head(body.length) + body.slice(0, body.length / 2)), REQUEST_TIMEOUT_MS + SLACK_MS);
    expect408(closed, REQUEST_TIMEOUT_MS);
    console.log(`half-sent body: 408 and closed after ${closed.elapsedMs} ms (request timeout ${REQUEST_TIMEOUT_MS} ms)`);
  });

  it('closes a connection that drips its body a byte at a time, however steadily', async () => {
    const body = JSON.stringify({ email: 'drip@example.com', password: 'x'.repeat(200) });
    const closed = await whenServerCloses(
      port,
      (socket) => {
        socket.write(head(body.length));
        let sent = 0;
        const drip = setInterval(() => {
          if (sent < body.length && socket.writable) socket.write(body[sent++]);
        }, 50);
        drips.push(drip);
        socket.once('close', () => clearInterval(drip));
      },
      REQUEST_TIMEOUT_MS + SLACK_MS,
    );
    expect408(closed, REQUEST_TIMEOUT_MS);
    console.log(`dripped body: 408 and closed after ${closed.elapsedMs} ms`);
  });

  it('closes a connection whose headers never end within the headers timeout', async () => {
    const closed = await whenServerCloses(
      port,
      (socket) => socket.write('POST /auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: '),
      HEADERS_TIMEOUT_MS + SLACK_MS,
    );
    expect408(closed, HEADERS_TIMEOUT_MS);
    console.log(`unfinished headers: 408 and closed after ${closed.elapsedMs} ms (headers timeout ${HEADERS_TIMEOUT_MS} ms)`);
  });

  it('still serves a request sent at a normal pace on the same server, and logged no error for the slow ones', async () => {
    const response = await fetch(`http://127.0.0.1:${port}/health`);
    expect(response.status).toBe(200);
    expect(stack.logs.lines.filter((line) => /"level":"(error|fatal)"/.test(line))).toEqual([]);
  });
});
