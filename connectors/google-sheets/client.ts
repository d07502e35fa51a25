import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { ConnectorContext } from '../../src/connectors/contract';
import { ConnectorError } from '../../src/connectors/errors';
import { rateLimiterFor } from '../../src/http/rate-limit';
import { withRetries } from '../../src/http/retry-loop';
import { retryPolicy } from '../../src/http/settings';
import type { GoogleSheetsConfig } from './config.schema';
import type { BatchGetResponse, ServiceAccountKey, SpreadsheetProperties } from './types';

export const SHEETS_SCOPE = 'https://www.googleapis.com/auth/spreadsheets.readonly';
export const SHEETS_AUTH_HINT =
  "the service-account key (keyFile or GOOGLE_SERVICE_ACCOUNT_JSON), that the spreadsheet is shared with the service account's email, and that the Sheets API is enabled for its project";

async function loadKey(config: GoogleSheetsConfig, ctx: ConnectorContext): Promise<ServiceAccountKey> {
  const who = `google-sheets (${config.id})`;
  let text: string;
  if (config.credentialsJson !== undefined) {
    text = config.credentialsJson;
  } else {
    const path = resolve(ctx.configDir, config.keyFile!);
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      throw new ConnectorError(
        'config',
        `${who}: cannot read keyFile ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'}); the path is relative to the config file.`,
        {
          connector: who,
        },
      );
    }
  }
  let key: Partial<ServiceAccountKey>;
  try {
    key = JSON.parse(text) as Partial<ServiceAccountKey>;
  } catch {
    // Never echo the text: it is a private key.
    throw new ConnectorError('config', `${who}: the service-account key is not valid JSON.`, { connector: who });
  }
  if (!key.client_email || !key.private_key) {
    throw new ConnectorError('config', `${who}: the service-account key lacks client_email or private_key.`, { connector: who });
  }
  return key as ServiceAccountKey;
}

function gaxiosDetails(err: unknown): { status?: number; headers?: Record<string, unknown> } {
  const e = err as { status?: number; response?: { status?: number; headers?: unknown } };
  const status = e?.response?.status ?? (typeof e?.status === 'number' ? e.status : undefined);
  const raw = e?.response?.headers;
  const headers: Record<string, unknown> = {};
  if (raw && typeof (raw as Headers).forEach === 'function')
    (raw as Headers).forEach((v, k) => {
      headers[k.toLowerCase()] = v;
    });
  else if (raw && typeof raw === 'object') for (const [k, v] of Object.entries(raw)) headers[k.toLowerCase()] = v;
  return { ...(status !== undefined ? { status } : {}), headers };
}

export interface SheetsApi {
  batchGet(ranges: string[]): Promise<BatchGetResponse>;
  properties(): Promise<SpreadsheetProperties>;
  readonly calls: number;
}

/**
 * googleapis' Sheets v4 client with a service account. Self-signed JWTs (useJWTAccessWithScope)
 * sign each request locally: no token exchange round trip, and `rootUrl` can point at a fake.
 * googleapis' own retry is off; failures go through the shared decideRetry.
 */
export async function sheetsApi(config: GoogleSheetsConfig, ctx: ConnectorContext): Promise<SheetsApi> {
  const who = `google-sheets (${config.id})`;
  const key = await loadKey(config, ctx);
  const { google } = await import('googleapis');
  const auth = new google.auth.JWT({ email: key.client_email, key: key.private_key, keyId: key.private_key_id, scopes: [SHEETS_SCOPE] });
  auth.useJWTAccessWithScope = true;
  const sheets = google.sheets({ version: 'v4', auth, rootUrl: config.baseUrl, retry: false });
  const limiter = rateLimiterFor({
    key: `google-sheets:${key.client_email}`,
    points: config.rateLimit.requests,
    windowMs: config.rateLimit.perSeconds * 1000,
    ...(ctx.services?.redisUrl ? { redisUrl: ctx.services.redisUrl } : {}),
  });
  let calls = 0;
  const common = {
    connector: who,
    authHint: SHEETS_AUTH_HINT,
    policy: retryPolicy(config.retry),
    secrets: [key.private_key, config.credentialsJson],
    limiter,
    describe: gaxiosDetails,
    onCall: () => void calls++,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  };
  return {
    get calls() {
      return calls;
    },
    // https://developers.google.com/sheets/api/reference/rest/v4/spreadsheets.values/batchGet
    batchGet: (ranges) =>
      withRetries(
        async () =>
          (
            await sheets.spreadsheets.values.batchGet({
              spreadsheetId: config.spreadsheetId,
              ranges,
              valueRenderOption: 'UNFORMATTED_VALUE',
              dateTimeRenderOption: 'SERIAL_NUMBER',
              majorDimension: 'ROWS',
            })
          ).data as BatchGetResponse,
        { ...common, what: 'GET spreadsheets.values:batchGet' },
      ),
    // https://developers.google.com/sheets/api/reference/rest/v4/spreadsheets/get
    properties: () =>
      withRetries(
        async () =>
          ((await sheets.spreadsheets.get({ spreadsheetId: config.spreadsheetId, fields: 'properties(title,locale,timeZone)' })).data
            .properties ?? {}) as SpreadsheetProperties,
        { ...common, what: 'GET spreadsheets.get' },
      ),
  };
}

export const DRIVE_METADATA_SCOPE = 'https://www.googleapis.com/auth/drive.metadata.readonly';

/**
 * The spreadsheet file's version as Drive reports it (a number that grows with every change
 * to the file), for the poll: one small request, made before any read of the sheet.
 * https://developers.google.com/drive/api/reference/rest/v3/files/get (fields: version, modifiedTime)
 */
export async function driveFileVersion(config: GoogleSheetsConfig, ctx: ConnectorContext): Promise<string> {
  const who = `google-sheets (${config.id})`;
  const key = await loadKey(config, ctx);
  const { google } = await import('googleapis');
  const auth = new google.auth.JWT({
    email: key.client_email,
    key: key.private_key,
    keyId: key.private_key_id,
    scopes: [DRIVE_METADATA_SCOPE],
  });
  auth.useJWTAccessWithScope = true;
  const drive = google.drive({ version: 'v3', auth, rootUrl: config.driveBaseUrl, retry: false });
  const file = await withRetries(
    async () => (await drive.files.get({ fileId: config.spreadsheetId, fields: 'version,modifiedTime', supportsAllDrives: true })).data,
    {
      connector: who,
      authHint: `${SHEETS_AUTH_HINT}, and the Drive API too (the poll reads the file's version)`,
      policy: retryPolicy(config.retry),
      secrets: [key.private_key, config.credentialsJson],
      describe: gaxiosDetails,
      what: 'GET drive files.get',
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    },
  );
  return `${file.version ?? ''}|${file.modifiedTime ?? ''}`;
}
