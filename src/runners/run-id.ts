import { randomBytes } from 'node:crypto';

export function newRunId(kind: string, now = new Date()): string {
  return `${kind}-${now.toISOString().replace(/[-:.]/g, '').slice(0, 15)}-${randomBytes(3).toString('hex')}`;
}
