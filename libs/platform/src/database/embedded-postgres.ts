import { Worker } from 'node:worker_threads';
import { Logger } from '@nestjs/common';

/**
 * The pool size an app must use against the embedded database: 1.
 *
 * PGlite is one PostgreSQL backend in single-user mode. pglite-socket 0.2.17 can accept several
 * sockets (`maxConnections`, default 1) but multiplexes them onto that one backend, message by
 * message, so they are not real connections:
 * - they share one session: SET, prepared statements, temp tables and advisory locks (every
 *   "connection" has the same pg_backend_pid, and each one gets any advisory lock);
 * - it keeps a client's messages together only while an explicit transaction is open; a large
 *   extended-protocol query split across TCP reads can interleave with another client's
 *   (electric-sql/pglite#977, #1046);
 * - while one client is in a transaction every other client waits, with no timeout, so a
 *   transaction that waits on a second connection hangs for ever (pglite#985).
 * A pool of one connection gets the same throughput (PGlite runs one query at a time anyway)
 * without those traps, and a transaction that needs a second connection fails after pg-pool's
 * connectionTimeoutMillis instead of hanging.
 *
 * Also unlike PostgreSQL: statement_timeout is not enforced (PGlite has no timer signals), and
 * advisory locks exclude nothing (harmless for the migration lock: one process owns the data).
 */
export const EMBEDDED_POSTGRES_POOL_SIZE = 1;

/**
 * The server accepts one socket more than the pool uses: when pg-pool replaces a connection it
 * can open the new socket before the server has seen the old one close, and with no spare slot
 * Node drops the new one ("Connection terminated unexpectedly" for about one replacement in
 * four in the churn test).
 */
const SERVER_MAX_CONNECTIONS = EMBEDDED_POSTGRES_POOL_SIZE + 1;

export interface EmbeddedPostgresOptions {
  /** Directory for the database files; in memory (lost on exit) when absent. */
  readonly dataDir?: string;
}

export interface EmbeddedPostgres {
  /** A postgresql:// URL for the pg driver, on 127.0.0.1 and a free port. */
  readonly url: string;
  /** Stops the server and closes the database; close the app's pool first. Idempotent. */
  close(): Promise<void>;
}

type WorkerMessage = { kind: 'listening'; address: string } | { kind: 'failed'; error: unknown } | { kind: 'closed' };

interface WorkerData {
  readonly pglite: string;
  readonly pgliteSocket: string;
  readonly dataDir: string | undefined;
  readonly maxConnections: number;
}

/**
 * PGlite runs in a worker thread, for two reasons. Its WebAssembly executes each query
 * synchronously, so on the main thread a slow query would stall every request and timer of the
 * app. And PGlite loads its WebAssembly with a dynamic import(), which Jest's CommonJS sandbox
 * refuses without --experimental-vm-modules; a worker runs outside that sandbox. The worker is
 * plain CommonJS source (it must run without the TypeScript build), and is given the absolute
 * paths of the packages so that it resolves them as this module does.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { PGlite } = require(workerData.pglite);
const { PGLiteSocketServer } = require(workerData.pgliteSocket);

async function main() {
  const db = await PGlite.create(workerData.dataDir === undefined ? {} : { dataDir: workerData.dataDir });
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: workerData.maxConnections });
  try {
    await server.start();
  } catch (error) {
    await db.close();
    throw error;
  }
  parentPort.once('message', async () => {
    await server.stop();
    await db.close();
    parentPort.postMessage({ kind: 'closed' });
  });
  parentPort.postMessage({ kind: 'listening', address: server.getServerConn() });
}

main().catch((error) => parentPort.postMessage({ kind: 'failed', error }));
`;

const logger = new Logger('EmbeddedPostgres');

/** Starts PGlite in a worker thread and serves it over the PostgreSQL protocol, for development. */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions = {}): Promise<EmbeddedPostgres> {
  const workerData: WorkerData = {
    pglite: require.resolve('@electric-sql/pglite'),
    pgliteSocket: require.resolve('@electric-sql/pglite-socket'),
    dataDir: options.dataDir,
    maxConnections: SERVER_MAX_CONNECTIONS,
  };
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData, name: 'embedded-postgres' });
  let exited = false;
  worker.once('exit', () => (exited = true));

  const started = await nextMessage(worker).catch(async (error: unknown) => {
    await worker.terminate();
    throw error;
  });
  if (started.kind !== 'listening') {
    await worker.terminate();
    throw started.kind === 'failed' ? started.error : new Error(`embedded PostgreSQL sent "${started.kind}" while starting`);
  }
  // Unhandled, a later crash of the worker would be thrown in the main thread and end the process.
  worker.on('error', (error) => logger.error(`The embedded PostgreSQL worker failed: ${error.message}`, error.stack));

  // "127.0.0.1:54321"; the server exposes its port no other way.
  const port = Number(started.address.split(':').pop());
  let closing: Promise<void> | undefined;
  return {
    // PGlite has a single role and database, both named postgres, and no authentication.
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    close() {
      closing ??= (async () => {
        if (exited) return;
        const closed = nextMessage(worker);
        worker.postMessage('close');
        await closed;
        // The database is closed; terminating beats waiting for the thread's last handles.
        await worker.terminate();
      })();
      return closing;
    },
  };
}

/** The worker's next message; rejects if it fails or exits first. */
function nextMessage(worker: Worker): Promise<WorkerMessage> {
  return new Promise((resolve, reject) => {
    const cleanUp = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    const onMessage = (message: WorkerMessage) => {
      cleanUp();
      resolve(message);
    };
    const onError = (error: Error) => {
      cleanUp();
      reject(error);
    };
    const onExit = (code: number) => {
      cleanUp();
      reject(new Error(`The embedded PostgreSQL worker exited with code ${code}`));
    };
    worker.on('message', onMessage).on('error', onError).on('exit', onExit);
  });
}
