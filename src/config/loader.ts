import path from 'node:path';
import { existsSync } from 'node:fs';
import type { z } from 'zod';
import { isMap } from 'yaml';
import { compileRates } from '../rates/index';
import type { CompiledRates } from '../rates/contract';
import type { ClientConfig } from './client.schema';
import { ConfigError, type ConfigIssue } from './issues';
import { ConfigSchema, type DestinationConfig, type RawConfig, type SourceConfig } from './schema';
import { configFiles, locate, readYamlFile, type Located, type YamlFile } from './yaml-source';

export interface LoadedConfig {
  raw: RawConfig;
  sources: SourceConfig[];
  destinations: DestinationConfig[];
  clients: ClientConfig[];
  rates: CompiledRates;
  /** Relative paths in the config (source files, output dirs) resolve against this. */
  configDir: string;
  files: string[];
}

/** Where a top-level key (and, for lists, each element) came from when several files are merged. */
interface Origin {
  yaml: YamlFile;
  /** For list keys: index of this file's first element in the merged list. */
  offset: number;
  count: number;
}

const LIST_KEYS = new Set(['sources', 'clients', 'destinations']);

/**
 * Load, interpolate, merge and validate configuration. Every problem is reported at once, each
 * with file, line, column, YAML path and what was expected; nothing is silently defaulted.
 */
export function loadConfig(target: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  if (!existsSync(target)) throw new ConfigError([{ path: [], message: `config file not found: ${target}` }]);
  const files = configFiles(target);
  if (files.length === 0) throw new ConfigError([{ path: [], message: `no .yaml files in ${target}` }]);

  const issues: Located[] = [];
  const merged: Record<string, unknown> = {};
  const origins = new Map<string, Origin[]>();

  for (const file of files) {
    const { yaml, issues: fileIssues } = readYamlFile(file, env);
    issues.push(...fileIssues);
    if (fileIssues.some((i) => i.message.startsWith('YAML syntax'))) continue;
    const contents = yaml.doc.contents;
    if (contents === null) continue;
    if (!isMap(contents)) {
      issues.push({
        path: [],
        message: 'expected a mapping of top-level keys (sources, clients, rates, destinations, …)',
        file,
        ...locate(yaml, []),
      });
      continue;
    }
    const js = yaml.doc.toJS() as Record<string, unknown>;
    for (const [key, value] of Object.entries(js)) {
      const list = origins.get(key) ?? [];
      if (LIST_KEYS.has(key) && Array.isArray(value)) {
        const existing = (merged[key] as unknown[] | undefined) ?? [];
        list.push({ yaml, offset: existing.length, count: value.length });
        merged[key] = [...existing, ...value];
      } else if (list.length > 0 && key !== '$schema') {
        issues.push({
          path: [key],
          message: `"${key}" is already defined in ${path.basename(list[0]!.yaml.file)}; define it in one file only`,
          file,
          ...locate(yaml, [key]),
        });
        continue;
      } else {
        list.push({ yaml, offset: 0, count: 0 });
        merged[key] = value;
      }
      origins.set(key, list);
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);

  const firstYaml = origins.values().next().value?.[0]?.yaml;
  const place = (issue: ConfigIssue, unknownKey?: string): Located => {
    const [top, index, ...rest] = issue.path;
    const list = typeof top === 'string' ? origins.get(top) : undefined;
    if (!list || list.length === 0) {
      return firstYaml ? { ...issue, file: firstYaml.file, ...locate(firstYaml, [], undefined) } : issue;
    }
    if (LIST_KEYS.has(String(top)) && typeof index === 'number') {
      const origin = list.find((o) => index >= o.offset && index < o.offset + o.count) ?? list[0]!;
      const localPath = [top, index - origin.offset, ...(rest as Array<string | number>)] as Array<string | number>;
      return { ...issue, file: origin.yaml.file, ...locate(origin.yaml, localPath, unknownKey) };
    }
    return { ...issue, file: list[0]!.yaml.file, ...locate(list[0]!.yaml, issue.path, unknownKey) };
  };

  const parsed = ConfigSchema.safeParse(merged);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.flatMap((i) => zodIssueToLocated(i, place)));
  }
  const raw = parsed.data;
  const clients = raw.clients;
  const { rates, issues: rateIssues } = compileRates(raw.rates, clients);
  if (rateIssues.length > 0) throw new ConfigError(rateIssues.map((i) => place(i)));

  return {
    raw,
    sources: raw.sources as SourceConfig[],
    destinations: raw.destinations as DestinationConfig[],
    clients,
    rates,
    configDir: path.dirname(files[0]!),
    files,
  };
}

function zodIssueToLocated(issue: z.core.$ZodIssue, place: (i: ConfigIssue, unknownKey?: string) => Located): Located[] {
  const p = issue.path.map((x) => (typeof x === 'symbol' ? String(x) : x));
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) =>
      place({ path: [...p, key], message: `unknown key "${key}" (a typo here must not silently change billing)` }, key),
    );
  }
  if (issue.code === 'invalid_union' && 'errors' in issue && issue.errors.length > 0) {
    // A discriminated union whose `kind` matched reports that branch's problems; show those. Of a
    // plain union (a pointer string or an object), a branch the value is not even the type of
    // says nothing useful ("expected string" of an object): show the others' problems.
    const branches = issue.errors.filter((b) => b.length > 0);
    const typed = branches.filter((b) => !(b.length === 1 && b[0]!.code === 'invalid_type' && b[0]!.path.length === 0));
    const inner = (typed.length > 0 ? typed : branches).flat();
    if (inner.length > 0 && inner.length < 20) {
      return inner.flatMap((i) => zodIssueToLocated({ ...i, path: [...issue.path, ...i.path] } as z.core.$ZodIssue, place));
    }
  }
  return [place({ path: p, message: describeIssue(issue) })];
}

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined
        ? `required: expected ${issue.expected}`
        : `expected ${issue.expected}, got ${typeof issue.input === 'object' ? JSON.stringify(issue.input)?.slice(0, 40) : JSON.stringify(issue.input)}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_union':
      if ('discriminator' in issue && issue.discriminator) {
        return `unknown or missing "${String(issue.discriminator)}"`;
      }
      return issue.message;
    default:
      return issue.message;
  }
}
