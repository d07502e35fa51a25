import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { loadConfig } from '../../src/config/loader';
import { ConfigError } from '../../src/config/issues';
import { interpolate } from '../../src/config/yaml-source';
import { configJsonSchema } from '../../src/config/json-schema';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const example = readFileSync(path.join(root, 'config/example.yaml'), 'utf8');

function issuesOf(fn: () => unknown) {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('config loader', () => {
  let dir: string;
  const write = (name: string, text: string) => {
    const file = path.join(dir, name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
    return file;
  };
  const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'hourbridge-config-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('Given the bundled example When loaded Then it validates with its sources, clients and destinations', () => {
    const config = loadConfig(path.join(root, 'config/example.yaml'), {});
    expect(config.sources.map((s) => s.id)).toEqual(['timesheet']);
    expect(config.clients.map((c) => c.id)).toEqual(['acme', 'globex']);
    expect(config.destinations.map((d) => `${d.id}:${d.kind}`)).toEqual(['files:file', 'einvoices:ubl']);
  });

  it('Given a wrong value type deep in a section When loaded Then the error names file, line, column, YAML path and what was expected', () => {
    const text = example.replace('paymentTermsDays: 30', 'paymentTermsDays: thirty');
    const file = write('wrong-type.yaml', text);
    const [issue, ...rest] = issuesOf(() => loadConfig(file, {}));
    expect(rest).toEqual([]);
    expect(issue).toMatchObject({
      file,
      line: lineOf(text, 'paymentTermsDays: thirty'),
      column: 23,
      path: ['clients', 1, 'paymentTermsDays'],
    });
    expect(issue!.message).toMatch(/expected number/);
  });

  it('Given several problems When loaded Then all are reported at once', () => {
    const text = example
      .replace('currency: EUR', 'currency: euro')
      .replace('unit: month', 'unit: fortnight')
      .replace('kind: file', 'kind: fax');
    const issues = issuesOf(() => loadConfig(write('many.yaml', text), {}));
    const paths = issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['clients.0.currency', 'clients.0.period.unit', 'destinations.0.kind']));
  });

  it('Given a rate card band of 25:00 When loaded Then the error points at the band in its file', () => {
    const text = example.replace('from: "22:00"', 'from: "25:00"');
    const file = write('band.yaml', text);
    const issues = issuesOf(() => loadConfig(file, {}));
    expect(issues[0]).toMatchObject({ file, line: lineOf(text, '25:00') });
    expect(issues[0]!.message).toContain('25:00');
  });

  it('Given ${VAR} and ${VAR:-default} When loaded Then values come from the environment, and an unset variable without default is an error at its position', () => {
    const text = example.replace('dir: ./out', 'dir: ${OUT_DIR:-./fallback}').replace('timeZone: Europe/Berlin', 'timeZone: ${GLOBEX_TZ}');
    const file = write('env.yaml', text);
    const ok = loadConfig(file, { GLOBEX_TZ: 'Europe/Vienna', OUT_DIR: '/tmp/x' });
    expect(ok.clients[1]!.timeZone).toBe('Europe/Vienna');
    expect(ok.destinations[0]!.dir).toBe('/tmp/x');
    expect(loadConfig(file, { GLOBEX_TZ: 'Europe/Vienna' }).destinations[0]!.dir).toBe('./fallback');
    const [issue] = issuesOf(() => loadConfig(file, {}));
    expect(issue).toMatchObject({ file, line: lineOf(text, '${GLOBEX_TZ}') });
    expect(issue!.message).toContain('GLOBEX_TZ is not set');
  });

  it('Given interpolation When text has no variables or an escaped $${ Then it is unchanged or literal', () => {
    fc.assert(
      fc.property(
        fc.string().filter((s) => !s.includes('$')),
        (s) => {
          expect(interpolate(s, {}).value).toBe(s);
        },
      ),
    );
    expect(interpolate('a $${HOME} b', { HOME: '/root' }).value).toBe('a ${HOME} b');
  });

  it('Given a directory of files When loaded Then lists are concatenated and errors point into the right file', () => {
    const sub = path.join(dir, 'multi');
    const [head, rest] = [example.slice(0, example.indexOf('clients:')), example.slice(example.indexOf('clients:'))];
    write('multi/10-sources.yaml', head);
    const second = rest.replace('paymentTermsDays: 14', 'paymentTermsDays: -1');
    const secondFile = write('multi/20-clients.yaml', second);
    const [issue] = issuesOf(() => loadConfig(sub, {}));
    expect(issue).toMatchObject({
      file: secondFile,
      line: lineOf(second, 'paymentTermsDays: -1'),
      path: ['clients', 0, 'paymentTermsDays'],
    });
    writeFileSync(secondFile, rest);
    expect(loadConfig(sub, {}).clients).toHaveLength(2);
  });

  it('Given YAML syntax errors When loaded Then they are reported with position, not thrown as stack traces', () => {
    const file = write('syntax.yaml', 'sources:\n  - id: a\n   kind: csv\n');
    const [issue] = issuesOf(() => loadConfig(file, {}));
    expect(issue).toMatchObject({ file, line: expect.any(Number) });
    expect(issue!.message).toMatch(/^YAML syntax/);
  });

  it('Given the committed JSON Schema When compared with the zod schemas Then it is up to date (run npm run schema)', () => {
    const committed = JSON.parse(readFileSync(path.join(root, 'config/hourbridge.schema.json'), 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(configJsonSchema())));
  });
});
