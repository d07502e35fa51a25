import { destinationConnectors, sourceConnectors } from '../../connectors/index';
import type { DestinationConnector, SourceConnector } from '../connectors/contract';
import type { DestinationConfig, SourceConfig } from '../config/schema';

export function sourceConnectorFor(kind: string): SourceConnector<SourceConfig> {
  const c = sourceConnectors.find((s) => s.kind === kind);
  if (!c) throw new Error(`no source connector of kind "${kind}" is registered`);
  return c as SourceConnector<SourceConfig>;
}

export function destinationConnectors_(): Map<string, DestinationConnector<DestinationConfig>> {
  return new Map(destinationConnectors.map((d) => [d.kind, d as DestinationConnector<DestinationConfig>]));
}

export { destinationConnectors_ as destinationConnectorMap };
