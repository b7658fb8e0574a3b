#!/usr/bin/env node
// The npm registry mirror this project is built against serves only the Linux builds of
// platform-specific optional packages (@swc/core-*, @unrs/resolver-binding-*), so `npm install`
// leaves the other platforms out of package-lock.json and `npm ci` then rejects the lockfile.
// This records each missing platform package with its os/cpu/libc constraints (read from its name),
// which is all `npm ci` needs to skip it on a platform it does not fit. Run after `npm install`.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const lockPath = path.join(__dirname, '..', 'package-lock.json');
const lock = JSON.parse(fs.readFileSync(lockPath, 'utf8'));
const OSES = ['darwin', 'linux', 'win32', 'android', 'freebsd', 'openharmony', 'sunos', 'aix', 'netbsd'];

function platformOf(name) {
  const parts = name.split('/').pop().split('-');
  const at = parts.findIndex((part) => OSES.includes(part));
  if (at < 0) return null;
  const [os, cpu, abi] = parts.slice(at);
  const platform = { os: [os], cpu: [cpu] };
  if (os === 'linux' && abi) platform.libc = [abi.startsWith('musl') ? 'musl' : 'glibc'];
  return platform;
}

let added = 0;
for (const [key, entry] of Object.entries(lock.packages)) {
  for (const [name, range] of Object.entries(entry.optionalDependencies ?? {})) {
    const nested = `${key ? `${key}/` : ''}node_modules/${name}`;
    if (lock.packages[nested] || lock.packages[`node_modules/${name}`]) continue;
    const platform = platformOf(name);
    if (!platform || !/^\d+\.\d+\.\d+$/.test(range)) continue;
    lock.packages[`node_modules/${name}`] = {
      version: range,
      ...(entry.dev ? { dev: true } : {}),
      optional: true,
      ...platform,
    };
    added += 1;
  }
}
lock.packages = Object.fromEntries(Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))));
fs.writeFileSync(lockPath, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`complete-lockfile: recorded ${added} platform package(s)`);
