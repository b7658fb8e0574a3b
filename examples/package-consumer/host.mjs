// An ESM host: imports the package, which is CommonJS; its require() of the ESM-only Nest 12
// packages must land on the very modules imported here (one CommandBus, one EventBus).
import 'reflect-metadata';
import * as common from '@nestjs/common';
import * as core from '@nestjs/core';
import * as cqrs from '@nestjs/cqrs';
import * as typeorm from '@nestjs/typeorm';
import * as cacheManager from '@nestjs/cache-manager';
import * as keyv from 'keyv';
import KeyvRedis, { createClient } from '@keyv/redis';
import pg from 'pg';
import * as sessions from '@app/sessions';
import { createRequire } from 'node:module';

// Named imports of the CommonJS package must match what require() gives.
const required = createRequire(import.meta.url)('@app/sessions');
const missing = Object.keys(required).filter((name) => !(name in sessions) || sessions[name] !== required[name]);
if (missing.length > 0) throw new Error(`ESM import of @app/sessions lacks ${missing.join(', ')}`);

const { run } = createRequire(import.meta.url)('./scenario.cjs');
try {
  await run({ common, core, cqrs, typeorm, cacheManager, keyv, KeyvRedis, redis: { createClient }, pg, sessions }, 'esm');
} catch (error) {
  console.error(error);
  process.exit(1);
}
setTimeout(() => {
  console.error('package-consumer (esm): still running 10 s after app.close(): something was left open');
  process.exit(1);
}, 10_000).unref();
