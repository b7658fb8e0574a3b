'use strict';
// A CommonJS host: require()s the package (and the ESM-only Nest 12 packages, Node 20.19+).
require('reflect-metadata');
const keyvRedis = require('@keyv/redis');
const { run } = require('./scenario.cjs');

const packages = {
  common: require('@nestjs/common'),
  core: require('@nestjs/core'),
  cqrs: require('@nestjs/cqrs'),
  typeorm: require('@nestjs/typeorm'),
  cacheManager: require('@nestjs/cache-manager'),
  keyv: require('keyv'),
  KeyvRedis: keyvRedis.default,
  redis: { createClient: keyvRedis.createClient },
  pg: require('pg'),
  sessions: require('@app/sessions'),
};

exitWhenDone(run(packages, 'cjs'));

/** Fails the run if it throws, or if the app left something open that keeps the process alive. */
function exitWhenDone(done) {
  done.then(
    () =>
      setTimeout(() => {
        console.error('package-consumer (cjs): still running 10 s after app.close(): something was left open');
        process.exit(1);
      }, 10_000).unref(),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
