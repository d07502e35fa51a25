import type { ConnectorContext, DestinationConnector, DestinationServices } from '../connectors/contract';
import type { Ledger } from '../ledger/db';
import { rateLimiterFor } from '../http/rate-limit';
import { LedgerIntentLog, MemoryIntentLog } from './intent-log';
import { ledgerStatusService, type StatusMap } from './statuses';

/**
 * Builds the narrow services a destination is given: its intent log (by kind, per destination),
 * its status service (the ledger's status side for this destination, by the connector's status
 * map) and shared request budgets. The push and status stages put them on the context; a
 * connector called directly (tests, `check`) gets the same from `destinationServicesOf`.
 */
export function destinationServices(args: {
  kind: string;
  destinationId: string;
  statusMap?: StatusMap;
  ledger?: Ledger;
  redisUrl?: string;
}): DestinationServices {
  const { ledger, redisUrl } = args;
  return {
    intents: ledger ? new LedgerIntentLog(ledger, args.kind) : new MemoryIntentLog(args.kind),
    ...(ledger ? { statuses: ledgerStatusService(ledger, args.destinationId, args.statusMap ?? {}) } : {}),
    budget: (key, requests, windowMs) =>
      rateLimiterFor({ key: `${args.kind}:${key}`, points: requests, windowMs, ...(redisUrl ? { redisUrl } : {}) }),
    ...(redisUrl ? { redisUrl } : {}),
  };
}

/** The context's destination services, or ones built from its ledger for this destination. */
export function destinationServicesOf(
  ctx: ConnectorContext,
  connector: Pick<DestinationConnector, 'kind' | 'statusMap'>,
  destinationId: string,
): DestinationServices {
  return (
    ctx.destination ??
    destinationServices({
      kind: connector.kind,
      destinationId,
      statusMap: connector.statusMap,
      ledger: ctx.services?.ledger,
      redisUrl: ctx.services?.redisUrl,
    })
  );
}

/** The context a stage passes to a destination: the same, plus that destination's services. */
export function withDestinationServices<X extends ConnectorContext>(
  ctx: X,
  connector: Pick<DestinationConnector, 'kind' | 'statusMap'>,
  destinationId: string,
): X {
  return {
    ...ctx,
    destination: destinationServices({
      kind: connector.kind,
      destinationId,
      statusMap: connector.statusMap,
      ledger: ctx.services?.ledger,
      redisUrl: ctx.services?.redisUrl,
    }),
  };
}
