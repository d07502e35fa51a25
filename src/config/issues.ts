/**
 * A problem found in the configuration, addressed by its YAML path. The loader turns the path
 * into file, line and column, so every module can report problems without knowing about files.
 */
export interface ConfigIssue {
  path: ReadonlyArray<string | number>;
  /** What is wrong and what was expected, e.g. "expected HH:MM between 00:00 and 24:00, got 25:00". */
  message: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly issues: ReadonlyArray<ConfigIssue & { file?: string; line?: number; column?: number }>) {
    super(
      issues
        .map((i) => `${i.file ?? '<config>'}${i.line ? `:${i.line}:${i.column ?? 1}` : ''} ${formatPath(i.path)}: ${i.message}`)
        .join('\n'),
    );
  }
}

export function formatPath(path: ReadonlyArray<string | number>): string {
  if (path.length === 0) return '(root)';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}
