import type { ClientConfig } from '../config/client.schema';

/** Source client names → configured client: by id, name or any `match` entry, case- and space-insensitive. */
export class ClientResolver {
  private readonly byName = new Map<string, ClientConfig>();
  readonly byId = new Map<string, ClientConfig>();
  /** Resolutions by the name as the source wrote it: sources repeat a few spellings on every row. */
  private readonly seen = new Map<string, ClientConfig | null>();

  constructor(clients: ClientConfig[]) {
    for (const c of clients) {
      this.byId.set(c.id, c);
      for (const name of [c.id, c.name, ...c.match]) this.byName.set(normalise(name), c);
    }
  }

  resolve(sourceName: string): ClientConfig | undefined {
    const hit = this.seen.get(sourceName);
    if (hit !== undefined) return hit ?? undefined;
    const found = this.byName.get(normalise(sourceName));
    if (this.seen.size >= 10_000) this.seen.clear();
    this.seen.set(sourceName, found ?? null);
    return found;
  }
}

function normalise(name: string): string {
  return name.trim().replace(/\s+/g, ' ').toLowerCase();
}
