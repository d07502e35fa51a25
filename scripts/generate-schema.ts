/**
 * Writes config/hourbridge.schema.json from the zod schemas (the single source of truth), so
 * editors can autocomplete and check Hourbridge YAML. Run with `npm run schema`.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { configJsonSchema } from '../src/config/json-schema';

const target = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'config', 'hourbridge.schema.json');
writeFileSync(target, `${JSON.stringify(configJsonSchema(), null, 2)}\n`);
process.stdout.write(`wrote ${path.relative(process.cwd(), target)}\n`);
