// Jest 30, ESM as the project is ("type": "module"): `npm test` starts Node with
// --experimental-vm-modules, and TypeScript goes through @swc/jest (types are checked by
// `npm run typecheck`, not here).

/**
 * ESM-only packages that a CommonJS package require()s: @nestjs/bullmq (CommonJS) requires
 * @nestjs/bull-shared 12 (ESM). Node 20.19+ loads that natively, Jest's CommonJS loader does not
 * (before Node 24.9), so these are compiled to CommonJS when they are required.
 */
const ESM_REQUIRED_FROM_CJS = ['@nestjs/bull-shared'];

/** @type {import('jest').Config} */
const config = {
  // Node, with hooks given 120 s by default (tests 60 s, testTimeout below).
  testEnvironment: '<rootDir>/test/support/jest-environment.js',
  roots: ['<rootDir>/test', '<rootDir>/connectors', '<rootDir>/src'],
  testMatch: ['<rootDir>/{test,connectors,src}/**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  transform: {
    // ESM-only packages that CommonJS packages require() (see transformIgnorePatterns).
    [`/node_modules/(?:${ESM_REQUIRED_FROM_CJS.join('|')})/.+\\.js$`]: [
      '@swc/jest',
      { jsc: { parser: { syntax: 'ecmascript' }, target: 'es2022' } },
    ],
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          target: 'es2022',
          // The code runs through tsx (esbuild) in production, which applies legacy decorators
          // but emits no decorator metadata; the tests run it the same way, so a constructor
          // parameter without its @Inject token fails here as it would in production.
          transform: { legacyDecorator: true, decoratorMetadata: false, useDefineForClassFields: true },
        },
      },
    ],
  },
  transformIgnorePatterns: [`/node_modules/(?!(?:${ESM_REQUIRED_FROM_CJS.join('|')})/)`],
  // nock 15 needs Promise.withResolvers, which Node 20 lacks.
  setupFiles: ['<rootDir>/test/fakes/node20-polyfills.ts'],
  // Restores nock after each file that used it (see the file).
  setupFilesAfterEnv: ['<rootDir>/test/support/jest-setup.ts'],
  testTimeout: 60_000,
  // Two cores: PGlite start-up and real worker processes are CPU-heavy.
  maxWorkers: 2,
};

export default config;
