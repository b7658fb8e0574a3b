#!/usr/bin/env bash
# The sessions library as a consumer gets it: build and pack libs/sessions, check what the tarball
# holds (scripts/check-package.mjs), lint it with publint and attw, then install it in a host
# outside the repository (examples/package-consumer) and run commands through it against the real
# PostgreSQL and Redis, from CommonJS and from ESM.
#
# attw runs with the node16 profile: it checks node16 resolution from CommonJS and from ESM, and
# bundler resolution, and skips node10, TypeScript's legacy resolution that ignores `exports`
# (so it cannot see the ./testing entry). Nest 12 hosts cannot use node10 anyway: the Nest 12
# packages are ESM-only and are typed through their own `exports`.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/sessions-package.XXXXXX")"
# The build and the LICENSE and CHANGELOG copies the pack leaves in libs/sessions go too (all ignored by git).
trap 'rm -rf "$work" "$root/libs/sessions/dist" "$root/libs/sessions/LICENSE" "$root/libs/sessions/CHANGELOG.md"' EXIT
bin="$root/node_modules/.bin"

echo "check-package: build and pack"
(cd "$root/libs/sessions" && npm pack --silent --pack-destination "$work" >/dev/null)
tarball="$(ls "$work"/*.tgz)"
mkdir "$work/unpacked"
tar -xzf "$tarball" -C "$work/unpacked"
node "$root/scripts/check-package.mjs" "$work/unpacked/package"

echo "check-package: publint"
"$bin/publint" run "$tarball" --strict
echo "check-package: attw"
"$bin/attw" "$tarball" --profile node16 --format ascii

if [ "${1:-}" = "--no-consumer" ]; then exit 0; fi

echo "check-package: a host installs the tarball"
consumer="$work/consumer"
cp -R "$root/examples/package-consumer" "$consumer"
# The versions this repository is tested with, so the consumer runs what CI tested.
versions="$(node -e '
  const manifest = require(process.argv[1]);
  const wanted = ["@nestjs/common", "@nestjs/core", "@nestjs/cqrs", "@nestjs/typeorm", "@nestjs/cache-manager", "cache-manager", "keyv", "@keyv/redis", "typeorm", "pg", "reflect-metadata", "rxjs"];
  console.log(wanted.map((name) => `${name}@${manifest.dependencies[name]}`).join(" "));
' "$root/package.json")"
# shellcheck disable=SC2086 # one argument per package
(cd "$consumer" && npm install --no-audit --no-fund --prefer-offline --loglevel=error "$tarball" $versions)

echo "check-package: the host runs commands through it"
(cd "$consumer" && node host.cjs && node host.mjs)
echo "check-package: passed"
