import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A freshly initialised embedded cluster, saved once (at `npm ci`, by the `prepare` script) so
 * that a new embedded ledger is loaded from it instead of running initdb in-process. Measured
 * here: creating a ledger with initdb peaks at 873 MB RSS and takes 5.0 s; loading the saved
 * cluster peaks at 409 MB and takes 2.3 s (reopening an existing one: 339 MB, 1.3 s). Kept
 * under node_modules/.cache, named by the PGlite version that made it, so an upgrade of PGlite
 * never loads a cluster of another version. Without the file a ledger is created with initdb
 * as before.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function pgliteVersion(): string | undefined {
  const manifest = path.join(root, 'node_modules', '@electric-sql', 'pglite', 'package.json');
  if (!existsSync(manifest)) return undefined;
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version?: string }).version;
}

export function embeddedTemplatePath(): string | undefined {
  const version = pgliteVersion();
  return version ? path.join(root, 'node_modules', '.cache', 'hourbridge', `pglite-${version}-cluster.tar.gz`) : undefined;
}

/** The saved cluster, if there is one for this PGlite version. */
export async function loadEmbeddedTemplate(): Promise<Blob | undefined> {
  const file = embeddedTemplatePath();
  if (!file || !existsSync(file)) return undefined;
  return new Blob([await readFile(file)]);
}

/** Initialise a cluster in memory and save it (atomically) where loadEmbeddedTemplate finds it. */
export async function writeEmbeddedTemplate(): Promise<string> {
  const file = embeddedTemplatePath();
  if (!file) throw new Error('@electric-sql/pglite is not installed');
  const { PGlite } = await import('@electric-sql/pglite');
  const db = await PGlite.create('memory://');
  try {
    const dump = await db.dumpDataDir('gzip');
    await mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, Buffer.from(await dump.arrayBuffer()));
    await rename(tmp, file);
    return file;
  } finally {
    await db.close();
  }
}
