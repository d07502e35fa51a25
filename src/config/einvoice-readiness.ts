import { missingForClient } from '../../connectors/ubl/to-ubl';
import type { LoadedConfig } from './loader';

/** Destination kinds that write e-invoices, and so need seller, buyer and VAT data. */
const EINVOICE_KINDS = new Set(['ubl']);

export interface EinvoiceReadiness {
  client: string;
  destination: string;
  ready: boolean;
  /** Sentences naming each config field the client's first e-invoice still lacks. */
  missing: string[];
}

/** For every client invoiced through an e-invoice destination: what its config still lacks (shown by `hourbridge validate`). */
export function einvoiceReadiness(config: Pick<LoadedConfig, 'clients' | 'destinations'>): EinvoiceReadiness[] {
  const kinds = new Map(config.destinations.map((d) => [d.id, d.kind]));
  return config.clients
    .filter((c) => EINVOICE_KINDS.has(kinds.get(c.destination) ?? ''))
    .map((c) => {
      const missing = missingForClient(c);
      return { client: c.id, destination: c.destination, ready: missing.length === 0, missing };
    });
}
