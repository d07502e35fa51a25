import { generateKeyPairSync } from 'node:crypto';
import { faultQueue, listen, sendJson, type Fault } from './fake-http';

/**
 * Local fake of the Google Sheets API v4 (https://developers.google.com/sheets/api/reference/rest):
 * values:batchGet (ragged rows, unformatted values) and spreadsheets.get (properties). Accepts
 * only self-signed JWTs issued by the expected service account; googleapis reaches it through `rootUrl`.
 */
export interface SheetsFake {
  rootUrl: string;
  /** Rows of the tab, header first; edit freely. */
  rows: Array<Array<string | number | boolean | null>>;
  stats: { batchGet: number };
  lastQuery: URLSearchParams | null;
  fail(f: Fault): void;
  clearFaults(): void;
  close(): Promise<void>;
}

/** An obviously fake service-account key with a real (throw-away) RSA key, so JWTs can be signed. */
export function fakeServiceAccount(email = 'hourbridge-test@fake-project.iam.gserviceaccount.test'): { json: string; email: string } {
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return {
    email,
    json: JSON.stringify({
      type: 'service_account',
      project_id: 'fake-project',
      private_key_id: 'fake-key-1',
      private_key: privateKey,
      client_email: email,
    }),
  };
}

function issuerOf(authorization: string | undefined): string | undefined {
  const token = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
  const payload = token?.split('.')[1];
  if (!payload) return undefined;
  try {
    return (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { iss?: string }).iss;
  } catch {
    return undefined;
  }
}

export async function startSheetsFake(opts: {
  spreadsheetId: string;
  sheet: string;
  email: string;
  rows: SheetsFake['rows'];
}): Promise<SheetsFake> {
  const faults = faultQueue();
  const state: { rows: SheetsFake['rows']; stats: { batchGet: number }; lastQuery: URLSearchParams | null } = {
    rows: opts.rows,
    stats: { batchGet: 0 },
    lastQuery: null,
  };
  const server = await listen((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    if (issuerOf(req.headers.authorization) !== opts.email) {
      return sendJson(res, 401, {
        error: { code: 401, message: 'Request had invalid authentication credentials.', status: 'UNAUTHENTICATED' },
      });
    }
    const base = `/v4/spreadsheets/${opts.spreadsheetId}`;
    if (req.method === 'GET' && url.pathname === base) {
      return sendJson(res, 200, {
        spreadsheetId: opts.spreadsheetId,
        properties: { title: 'Urenregistratie', locale: 'nl_NL', timeZone: 'Europe/Amsterdam' },
      });
    }
    if (req.method === 'GET' && url.pathname === `${base}/values:batchGet`) {
      state.stats.batchGet++;
      state.lastQuery = url.searchParams;
      const f = faults.take();
      if (f) return sendJson(res, f.status, f.body ?? { error: { code: f.status, message: 'fault', status: 'UNAVAILABLE' } }, f.headers);
      // Trailing empty rows are omitted, as the API does.
      let rows = state.rows;
      while (rows.length > 0 && rows.at(-1)!.length === 0) rows = rows.slice(0, -1);
      const width = Math.max(1, ...rows.map((r) => r.length));
      const lastCol = String.fromCharCode(64 + Math.min(26, width));
      return sendJson(res, 200, {
        spreadsheetId: opts.spreadsheetId,
        valueRanges: [{ range: `'${opts.sheet}'!A1:${lastCol}${Math.max(1, rows.length)}`, majorDimension: 'ROWS', values: rows }],
      });
    }
    sendJson(res, 404, { error: { code: 404, message: 'Requested entity was not found.', status: 'NOT_FOUND' } });
  });
  return {
    rootUrl: `${server.url}/`,
    get rows() {
      return state.rows;
    },
    set rows(v) {
      state.rows = v;
    },
    stats: state.stats,
    get lastQuery() {
      return state.lastQuery;
    },
    fail: (f) => faults.push(f),
    clearFaults: () => faults.clear(),
    close: server.close,
  };
}
