#!/usr/bin/env node
// Hourbridge's command line. The sources are TypeScript; tsx compiles them on load so that
// `npx hourbridge` works straight after `npm ci` with no build step to forget.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
