#!/usr/bin/env node
// Checks an unpacked `npm pack` of the sessions library (the `package/` folder of the tarball):
// what it ships, that every module it imports is declared, that the optional peers are reached
// from subpath entries only, and that CHANGELOG.md has an entry for its version.
// Usage: node scripts/check-package.mjs <unpacked package dir>
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';

const root = resolve(process.argv[2] ?? '');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const failures = new Set();
const fail = (message) => failures.add(message);

const files = walk(root).map((file) => relative(root, file).split(sep).join('/'));

// 1. Only the build and the documents a consumer needs.
const shipped = /^(package\.json|README\.md|LICENSE|CHANGELOG\.md|dist\/.+\.(js|js\.map|d\.ts))$/;
for (const file of files) if (!shipped.test(file)) fail(`ships ${file}, which is neither the build nor README/LICENSE/CHANGELOG`);
for (const file of ['README.md', 'LICENSE', 'CHANGELOG.md', 'dist/index.js', 'dist/index.d.ts']) {
  if (!files.includes(file)) fail(`does not ship ${file}`);
}
for (const file of files) if (/\.spec\./.test(file)) fail(`ships the test ${file}`);

// 2. Every bare import of the build is a Node built-in, a dependency or a peer.
const declared = new Set([...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {})]);
const optionalPeers = new Set(
  Object.entries(manifest.peerDependenciesMeta ?? {})
    .filter(([, meta]) => meta.optional)
    .map(([name]) => name),
);
const builtins = new Set(builtinModules);
const importPattern = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)["']([^"']+)["']/gm;

function specifiersOf(file) {
  const text = readFileSync(join(root, file), 'utf8');
  return [...text.matchAll(importPattern)].map((match) => match[1]);
}

function packageOf(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

const isBuiltin = (specifier) => specifier.startsWith('node:') || builtins.has(specifier);
const isRelative = (specifier) => specifier.startsWith('.');

for (const file of files.filter((f) => f.endsWith('.js') || f.endsWith('.d.ts'))) {
  for (const specifier of specifiersOf(file)) {
    if (isRelative(specifier) || isBuiltin(specifier)) continue;
    const name = packageOf(specifier);
    if (name === manifest.name) fail(`${file} imports its own package (${specifier})`);
    else if (!declared.has(name)) fail(`${file} imports ${specifier}, but ${name} is neither a dependency nor a peer`);
  }
}

// 3. What each entry loads: the optional peers only behind the subpath entries that need them.
function reachedPackages(entryFile) {
  const seen = new Set();
  const packages = new Set();
  const queue = [entryFile];
  while (queue.length > 0) {
    const file = queue.pop();
    if (seen.has(file)) continue;
    seen.add(file);
    for (const specifier of specifiersOf(file)) {
      if (isBuiltin(specifier)) continue;
      if (!isRelative(specifier)) {
        packages.add(packageOf(specifier));
        continue;
      }
      const target = relative(root, resolve(root, dirname(file), specifier))
        .split(sep)
        .join('/');
      const candidates = [target, `${target}.js`, `${target}/index.js`];
      const found = candidates.find((candidate) => files.includes(candidate));
      if (found) queue.push(found);
      else fail(`${file} requires ${specifier}, which the package does not ship`);
    }
  }
  return packages;
}

const entries = Object.entries(manifest.exports ?? {}).filter(([subpath]) => subpath !== './package.json');
for (const [subpath, conditions] of entries) {
  for (const [condition, target] of Object.entries(conditions)) {
    if (!files.includes(target.replace(/^\.\//, ''))) fail(`exports["${subpath}"].${condition} points at ${target}, which is not shipped`);
  }
  const runtimeFile = conditions.default?.replace(/^\.\//, '');
  if (!runtimeFile || !files.includes(runtimeFile)) continue;
  const reached = [...reachedPackages(runtimeFile)].sort();
  const optional = reached.filter((name) => optionalPeers.has(name));
  if (subpath === '.' && optional.length > 0) fail(`the main entry loads the optional peer(s) ${optional.join(', ')}: they would not be optional`);
  console.log(`${subpath}: loads ${reached.join(', ') || 'no package'}${optional.length ? ` (optional: ${optional.join(', ')})` : ''}`);
}

// 4. The versions this repository tests with are inside the ranges the package declares.
const repository = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const tested = { ...repository.dependencies, ...repository.devDependencies };
for (const [name, range] of Object.entries({ ...manifest.dependencies, ...manifest.peerDependencies })) {
  if (!tested[name]) fail(`${name} ${range} is declared by the package but not installed by the repository, so nothing tests it`);
  else if (!satisfiesCaret(tested[name], range)) fail(`${name}: the repository tests ${tested[name]}, outside the package's range ${range}`);
}

/** `version` within `^M.m.p` (the only range form the package uses): same major, or same minor below 1.0. */
function satisfiesCaret(version, range) {
  const wanted = /^\^(\d+)\.(\d+)\.(\d+)$/.exec(range);
  const actual = /^(\d+)\.(\d+)\.(\d+)$/.exec(version);
  if (!wanted || !actual) return false;
  const [w, a] = [wanted.slice(1).map(Number), actual.slice(1).map(Number)];
  if (a[0] !== w[0] || (w[0] === 0 && a[1] !== w[1])) return false;
  return a[1] > w[1] || (a[1] === w[1] && a[2] >= w[2]);
}

// 5. The version being packed has its CHANGELOG entry.
const changelog = files.includes('CHANGELOG.md') ? readFileSync(join(root, 'CHANGELOG.md'), 'utf8') : '';
if (!new RegExp(`^## \\[?${manifest.version.replace(/\./g, '\\.')}\\]?`, 'm').test(changelog)) {
  fail(`CHANGELOG.md has no "## ${manifest.version}" entry`);
}

if (failures.size > 0) {
  for (const message of failures) console.error(`check-package: ${message}`);
  process.exit(1);
}
console.log(`check-package: ${manifest.name}@${manifest.version}, ${files.length} files, imports declared`);

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}
