#!/usr/bin/env node
// Hourbridge's command line. The sources are TypeScript; tsx compiles them on load so that
// `npx hourbridge` works straight after `npm ci` with no build step to forget.
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

// The package's own tsconfig, wherever the command runs from: tsx otherwise looks in the working
// directory, and without `experimentalDecorators` the service's and the pages' Nest decorators
// fail to compile when `hourbridge ui` or `serve` starts in another folder.
register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
