import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node, type Pair } from 'yaml';
import type { ConfigIssue } from './issues';

/** One parsed YAML file, kept with its positions so any later problem can name file:line:column. */
export interface YamlFile {
  file: string;
  doc: Document.Parsed;
  lines: LineCounter;
}

export interface Located extends ConfigIssue {
  file?: string;
  line?: number;
  column?: number;
}

const VAR_RE = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * `${VAR}` and `${VAR:-default}` from the environment; `$${` is a literal `${`.
 * Returns the new text and the names of variables that were unset with no default.
 */
export function interpolate(text: string, env: NodeJS.ProcessEnv): { value: string; missing: string[] } {
  const missing: string[] = [];
  const value = text.replace(VAR_RE, (match, name: string | undefined, fallback: string | undefined) => {
    if (match === '$${') return '${';
    const v = env[name!];
    if (v !== undefined && v !== '') return v;
    if (fallback !== undefined) return fallback;
    missing.push(name!);
    return '';
  });
  return { value, missing };
}

/** Expand a --config argument: a file, or a directory of *.yaml / *.yml files (sorted). */
export function configFiles(target: string): string[] {
  const st = statSync(target);
  if (!st.isDirectory()) return [path.resolve(target)];
  return readdirSync(target)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => path.resolve(target, f));
}

/** Parse a YAML file; syntax errors and unset variables are returned as located issues. */
export function readYamlFile(file: string, env: NodeJS.ProcessEnv): { yaml: YamlFile; issues: Located[] } {
  const lines = new LineCounter();
  const doc = parseDocument(readFileSync(file, 'utf8'), { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const issues: Located[] = [];
  for (const err of doc.errors) {
    const pos = lines.linePos(err.pos[0]);
    issues.push({ path: [], message: `YAML syntax: ${err.message.split('\n')[0]}`, file, line: pos.line, column: pos.col });
  }
  if (doc.errors.length === 0) {
    // Interpolate in scalar strings only, so positions stay those of the file as written.
    visit(doc, {
      Scalar(_key, node) {
        if (typeof node.value !== 'string' || !node.value.includes('${')) return;
        const { value, missing } = interpolate(node.value, env);
        for (const name of missing) {
          const pos = lines.linePos(node.range?.[0] ?? 0);
          issues.push({
            path: [],
            message: `environment variable ${name} is not set (write \${${name}:-default} to give a default)`,
            file,
            line: pos.line,
            column: pos.col,
          });
        }
        node.value = value;
      },
    });
  }
  return { yaml: { file, doc, lines }, issues };
}

/** Find the node at `path`, or the nearest ancestor that exists, and the position of the key when it is the culprit. */
export function locate(yaml: YamlFile, issuePath: ReadonlyArray<string | number>, unknownKey?: string): { line: number; column: number } {
  let node: unknown = yaml.doc.contents;
  // For an unknown key the culprit is the key itself, inside its parent mapping.
  const walk = unknownKey !== undefined && issuePath[issuePath.length - 1] === unknownKey ? issuePath.slice(0, -1) : issuePath;
  for (const part of walk) {
    const next = childOf(node, part);
    if (next === undefined) break;
    node = next;
  }
  let offset = (node as Node | null)?.range?.[0] ?? 0;
  if (unknownKey !== undefined && isMap(node)) {
    const pair = (node.items as Pair[]).find((p) => isScalar(p.key) && p.key.value === unknownKey);
    const keyNode = pair?.key as Node | undefined;
    if (keyNode?.range) offset = keyNode.range[0];
  }
  const pos = yaml.lines.linePos(offset);
  return { line: pos.line, column: pos.col };
}

function childOf(node: unknown, part: string | number): unknown {
  if (isMap(node)) {
    const pair = (node.items as Pair[]).find((p) => isScalar(p.key) && String(p.key.value) === String(part));
    return pair?.value ?? undefined;
  }
  if (isSeq(node) && typeof part === 'number') return node.items[part];
  return undefined;
}
