import type { ClientConfig } from '../config/client.schema';

/** Source client names → configured client: by id, name or any `match` entry, case- and space-insensitive. */
export class ClientResolver {
  private readonly byName = new Map<string, ClientConfig>();
  readonly byId = new Map<string, ClientConfig>();

  constructor(clients: ClientConfig[]) {
    for (const c of clients) {
      this.byId.set(c.id, c);
      for (const name of [c.id, c.name, ...c.match]) this.byName.set(normalise(name), c);
    }
  }

  resolve(sourceName: string): ClientConfig | undefined {
    return this.byName.get(normalise(sourceName));
  }
}

function normalise(name: string): string {
  return name.trim().replace(/\s+/g, ' ').toLowerCase();
}
