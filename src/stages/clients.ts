import type { ClientConfig } from '../config/client.schema';
import { remember } from '../util/remember';

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
    return remember(this.seen, sourceName, this.byName.get(normalise(sourceName)) ?? null, 10_000) ?? undefined;
  }
}

function normalise(name: string): string {
  return name.trim().replace(/\s+/g, ' ').toLowerCase();
}
