import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type ProfileSummary, readProfile, summarizeProfile } from './cpuprofile-summary';
import { call, load } from './http-load';
import { seedSignedInUsers } from './seed';
import { BenchServer } from './server';
import { benchDatabase, benchRedisPrefix, onCleanup, progress, REDIS_URL, settle } from './support';

export interface ProfileOptions {
  readonly meSeconds: number;
  readonly revokeUsers: number;
  readonly sessionsPerUser: number;
}

export const DEFAULT_PROFILE: ProfileOptions = { meSeconds: 8, revokeUsers: 2, sessionsPerUser: 100_000 };

/** Same reason as in revoke-all-scaling.ts: the default 250 ms also bounds each 10,000-key pipeline. */
const CACHE_TIMEOUT_MS = '5000';

export interface ServerProfile {
  readonly me: ProfileSummary & { readonly requestsPerSecond: number };
  readonly revokeAll: ProfileSummary & { readonly sessions: number; readonly wallMs: number };
}

/**
 * One server under `node --cpu-prof`: a window of GET /auth/me load (session check, cache warm),
 * then revoke-all over HTTP of users holding 100,000 sessions each. The profile is cut into those
 * two windows by the wall clock (offsets from the spawn, good to a few tens of ms).
 */
export async function profileServer(options: ProfileOptions = DEFAULT_PROFILE): Promise<ServerProfile> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-cpuprof-'));
  onCleanup(`profile directory ${dir}`, async () => rmSync(dir, { recursive: true, force: true }));
  const database = await benchDatabase();
  const server = await BenchServer.start({
    label: 'server-profiled',
    databaseUrl: database.url,
    redisUrl: REDIS_URL,
    cachePrefix: benchRedisPrefix('profile').prefix,
    env: { CACHE_TIMEOUT_MS },
    nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`],
  });
  try {
    const tokens = await seedSignedInUsers(server.url, database.url, {
      firstEmail: 'bench-profile@example.com',
      users: options.revokeUsers,
      sessionsPerUser: options.sessionsPerUser,
      oneUserPerInsert: true,
    });

    let next = 0;
    const me = (duration: number) =>
      load({
        url: server.url,
        method: 'GET',
        path: '/auth/me',
        next: () => ({ headers: { authorization: `Bearer ${tokens[next++ % tokens.length]}` } }),
        duration,
        expectStatus: 200,
      });
    progress('profile: GET /auth/me');
    await me(3);
    const meFrom = Date.now() - server.spawnedAt;
    const meLoad = await me(options.meSeconds);
    const meTo = Date.now() - server.spawnedAt;

    await settle(500);
    progress(`profile: revoke-all of ${options.revokeUsers} x ${options.sessionsPerUser.toLocaleString('en-US')} sessions`);
    const revokeFrom = Date.now() - server.spawnedAt;
    let sessions = 0;
    for (const token of tokens) {
      const revoked = await call<{ revokedCount: number }>(server.url, 'POST', '/auth/sessions/revoke-all', {}, token);
      if (revoked.status !== 200) throw new Error(`revoke-all answered ${revoked.status}`);
      sessions += revoked.body.revokedCount;
    }
    const revokeTo = Date.now() - server.spawnedAt;

    await server.stop();
    const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
    if (!file) throw new Error(`no .cpuprofile in ${dir}: the server did not exit cleanly`);
    const profile = readProfile(path.join(dir, file));
    return {
      me: { ...summarizeProfile(profile, { fromMs: meFrom, toMs: meTo }), requestsPerSecond: meLoad.requestsPerSecond },
      revokeAll: { ...summarizeProfile(profile, { fromMs: revokeFrom, toMs: revokeTo }), sessions, wallMs: revokeTo - revokeFrom },
    };
  } finally {
    await server.stop();
    await database.release();
  }
}
