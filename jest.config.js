// Nest 12, @nestjs/cqrs 12, uuid 14, jose 6, content-disposition 3 (under @fastify/static), cookie 2 (which @fastify/cookie
// imports dynamically) and oauth4webapi (the OAuth client of test/e2e/oauth-revoke.e2e-spec.ts) ship ESM only; swc turns them into CommonJS for Jest (and the dynamic import into a require).
const esmOnly = [
  '@nestjs',
  'uuid',
  'jose',
  'uid',
  'load-esm',
  'file-type',
  'token-types',
  'strtok3',
  '@tokenizer',
  'peek-readable',
  '@borewit',
  '@fastify/static',
  'content-disposition',
  '@fastify/cookie',
  'cookie',
  'oauth4webapi',
];
const shared = {
  transform: { '^.+\\.(t|j|mj)s$': ['@swc/jest', { swcrc: true }] },
  transformIgnorePatterns: [`node_modules/(?!(${esmOnly.join('|')})/)`],
  moduleNameMapper: {
    '^@app/sessions$': '<rootDir>/libs/sessions/src/index.ts',
    '^@app/sessions/testing$': '<rootDir>/libs/sessions/src/testing/index.ts',
    '^@app/sessions/health$': '<rootDir>/libs/sessions/src/health/index.ts',
    '^@app/sessions/throttler$': '<rootDir>/libs/sessions/src/throttler/index.ts',
    '^@app/platform$': '<rootDir>/libs/platform/src/index.ts',
    '^@app/runtime$': '<rootDir>/libs/runtime/src/index.ts',
  },
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  testEnvironment: 'node',
};
module.exports = {
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: [
        '<rootDir>/libs/**/*.spec.ts',
        '<rootDir>/src/**/*.spec.ts',
        '<rootDir>/apps/**/*.spec.ts',
        '<rootDir>/examples/**/*.spec.ts',
        '<rootDir>/bench/**/*.spec.ts',
      ],
    },
    {
      ...shared,
      displayName: 'integration',
      // 30 s per hook and test (see the file): a file's start passes 5 s on a loaded machine.
      setupFilesAfterEnv: ['<rootDir>/test/support/slow-start-timeout.ts'],
      testMatch: ['<rootDir>/test/**/*.int-spec.ts', '<rootDir>/test/**/*.e2e-spec.ts', '<rootDir>/examples/**/*.e2e-spec.ts'],
    },
    {
      // The admin console in Debian's Chromium (/usr/bin/chromium): `npm run test:browser`, which .ci/run calls.
      ...shared,
      displayName: 'browser',
      setupFilesAfterEnv: ['<rootDir>/test/support/slow-start-timeout.ts'],
      testMatch: ['<rootDir>/test/browser/**/*.browser-spec.ts'],
    },
  ],
};
