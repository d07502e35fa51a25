import type { DestinationConnector, SourceConnector } from '../src/connectors/contract';
import { xeroDestination } from './xero';
import { harvestSource } from './harvest/index';
import { clockifySource } from './clockify/index';
import { togglSource } from './toggl/index';
import { googleSheetsSource } from './google-sheets/index';
import { fileDestination } from './file/index';
import { csvSource } from './csv/index';
import { xlsxSource } from './xlsx/index';
import { kimaiSource } from './kimai/index';
import { quickBooksDestination } from './quickbooks/index';
import { exactOnlineDestination } from './exactonline/index';
import { ublDestination } from './ubl/index';
import { restSource } from './rest/index';
import { webhookDestination } from './webhook/index';
import { moneybirdDestination } from './moneybird/index';

/**
 * The connector registry: adding a connector is a folder under connectors/ plus one line here.
 * Each connector's config is validated by its own zod schema, selected by `kind`.
 */
// Connectors are generic in their config type; the registry erases it to the base config
// ({ id, kind }). The contract's config-taking members are methods, whose parameters TypeScript
// checks bivariantly, so each connector fits without a cast. Each connector is only ever called
// with a config its own schema produced, which is what makes the erasure safe.
type ErasedSource = SourceConnector;
type ErasedDestination = DestinationConnector;

export const sourceConnectors: ErasedSource[] = [
  // registry lines: sources
  csvSource,
  xlsxSource,
  harvestSource,
  clockifySource,
  togglSource,
  googleSheetsSource,
  kimaiSource,
  restSource,
];

export const destinationConnectors: ErasedDestination[] = [
  // registry lines: destinations
  xeroDestination,
  fileDestination,
  webhookDestination,
  moneybirdDestination,
  quickBooksDestination,
  exactOnlineDestination,
  ublDestination,
];
