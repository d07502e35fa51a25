import type { CheckResult, ConnectorContext, Problem } from '../../src/connectors/contract';
import { formatClock } from '../../src/mapping/time.parser';
import { asConnectorError } from '../../src/http/client';
import { windowForRun } from '../../src/http/window';
import type { RestConfig } from './config.schema';
import { restHttp } from './client';
import { fetchPage, windowParams } from './paginate';
import { recordId, restToTimeEntry } from './to-time-entry';

/** Entries `check` shows: enough to see the mapping is right, short enough for a table cell. */
const SHOWN = 3;

/** "durationSeconds (from /time): value "two hours": expected a number of seconds …" — the reason names the value. */
function describeProblem(p: Problem): string {
  const where = p.column ? ` (from ${p.column})` : '';
  return `${p.field ?? 'record'}${where}: ${p.reason}`;
}

/**
 * `hourbridge check` for a REST source: one real page of the listing (the recent window, or the
 * first page), mapped with the configured fields. OK shows the first entries as they would be
 * stored; a mapping problem fails the check with the record id, the field, the pointer it was
 * read from, the value and what was expected — the same problem a sync would quarantine.
 */
export async function checkRest(config: RestConfig, ctx: ConnectorContext): Promise<CheckResult> {
  const who = `rest (${config.id})`;
  const http = restHttp(config, ctx);
  try {
    const window = config.window
      ? windowForRun({
          now: ctx.now,
          timeZone: config.timeZone,
          synced: true,
          ...(config.startDate ? { startDate: config.startDate } : {}),
          defaultHistoryDays: config.historyDays,
          reconcileDays: config.reconcileDays,
        })
      : undefined;
    const page = await fetchPage(http, config, window ? windowParams(config, window) : {}, null);
    const span = window ? ` for ${window.from} – ${window.to}` : '';
    const lines: string[] = [];
    let skipped = 0;
    for (const data of page.records) {
      if (lines.length >= SHOWN) break;
      const id = recordId(config, data);
      const m = restToTimeEntry({ ref: id ? { id } : {}, data }, config, ctx.now);
      if (m.kind === 'skip') {
        skipped++;
        continue;
      }
      if (m.kind === 'invalid') {
        return {
          ok: false,
          category: 'config',
          message: `${who}: the API answered (${page.records.length} record(s) on the first page${span}), but record ${m.externalId ?? id ?? `#${page.records.indexOf(data) + 1}`} does not map: ${m.problems.map(describeProblem).join('; ')}. Check fields in the source's config.`,
        };
      }
      const e = m.entry;
      lines.push(
        `${e.externalId}: ${e.date} ${e.worker.name} · ${e.client}${e.project ? ` / ${e.project}` : ''} · ${formatClock(e.durationSeconds)}${e.billable ? '' : ' (not billable)'}${e.billedAtSource ? ' (billed at source)' : ''}`,
      );
    }
    const head = `${who}: credentials accepted; ${page.records.length} record(s) on the first page${span}${page.next ? ' (more pages follow)' : ''}`;
    if (lines.length === 0) {
      return {
        ok: true,
        message: `${head}.`,
        warnings: [
          skipped > 0
            ? `${who}: every record on the first page was skipped by skipWhen; no entry to show the mapping with.`
            : `${who}: no records on the first page${span}, so the field mapping could not be tried; check request.path and records.path.`,
        ],
      };
    }
    return { ok: true, message: `${head}; first entries as mapped:\n${lines.join('\n')}` };
  } catch (err) {
    const e = asConnectorError(who, err, http.secrets);
    return { ok: false, category: e.category, message: e.message };
  }
}
