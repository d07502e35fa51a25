import type { TimeEntry } from '../domain/time-entry';
import type { RatedLine, TraceStep } from '../domain/rated-line';
import { dec, fixed } from '../domain/money';
import { formatLocal } from './zone-days';

export interface Placement {
  piece: number;
  invoiceKey: string;
  lineDescription: string;
  lineAmount: string;
}

const ENTRY_KINDS = new Set<TraceStep['kind']>(['break', 'rounding']);

function hm(ms: number): string {
  const min = Math.round(ms / 60_000);
  return `${Math.floor(min / 60)}:${String(min % 60).padStart(2, '0')}`;
}

function step(s: TraceStep): string {
  const mark = s.applied ? '✓' : '·';
  const value = s.value ? ` ${s.value}` : '';
  return `${mark} ${s.kind} ${s.rule}${value}: ${s.detail}`;
}

/** Where the ledger has the entry: its status and, for one that is not invoiced, why. */
export interface EntryState {
  status: string;
  reason?: string | null;
}

/** One sentence on whether the entry is invoiced and, if not, why (the ledger's reason). */
export function invoicedSentence(entry: TimeEntry, state: EntryState): string {
  switch (state.status) {
    case 'excluded': {
      const reason =
        state.reason ??
        (entry.billedAtSource
          ? 'already billed in the source system'
          : !entry.billable
            ? 'marked non-billable in the source'
            : entry.approved !== true
              ? 'not approved'
              : 'excluded');
      return `not invoiced: ${reason}. The entry is kept and listed by \`hourbridge report excluded\`.`;
    }
    case 'unpriced':
      return `not invoiced: ${state.reason ?? 'it cannot be priced'}. Listed by \`hourbridge report quarantine\`.`;
    case 'deleted':
      return 'not invoiced: deleted at the source.';
    case 'new':
      return 'not priced yet: the next sync prices it.';
    case 'rated':
      return 'priced, not on an invoice yet: the next sync drafts it.';
    case 'drafted':
      return 'on a draft invoice that is not approved yet.';
    case 'billed':
      return 'billed on an approved invoice.';
    default:
      return `status ${state.status}${state.reason ? `: ${state.reason}` : ''}.`;
  }
}

/**
 * The text `hourbridge explain` prints for one entry: what was worked, the entry-level steps
 * (break, rounding, minimum), then per rated piece its local span, hours before and after
 * rounding, the base rate, every surcharge applied or skipped with the reason, the arithmetic,
 * and the invoice line it landed on. Enough to answer "why is this 67.50?" without the config.
 */
export function formatExplain(
  entry: TimeEntry,
  lines: RatedLine[],
  placements?: Placement[],
  timeZone?: string,
  state?: EntryState,
): string {
  const zone = timeZone ?? entry.timeZone;
  const out: string[] = [];
  const who = [
    entry.worker.name,
    entry.project && `project ${entry.project}`,
    entry.task && `task ${entry.task}`,
    entry.role && `role ${entry.role}`,
  ]
    .filter(Boolean)
    .join(', ');
  out.push(`Entry ${entry.sourceId}:${entry.externalId} — ${who} — client ${entry.clientId ?? entry.client}`);
  if (entry.start) {
    // The billed interval: anchored at the start, as long as the (authoritative) duration.
    const a = Date.parse(entry.start);
    const b = a + entry.durationSeconds * 1000;
    out.push(
      `  worked ${formatLocal(zone, a)} – ${formatLocal(zone, b)} (${zone}): ${hm(b - a)} h gross, break ${hm(entry.breakSeconds * 1000)} h recorded`,
    );
  } else {
    out.push(
      `  worked ${hm(entry.durationSeconds * 1000)} h on ${entry.date} (no start/end time), break ${hm(entry.breakSeconds * 1000)} h recorded`,
    );
  }
  const stated = entry.provenance.sourceTimes;
  if (stated) {
    const times = [stated.start, stated.end].filter((v) => v !== undefined).map((v) => `${v.field} ${v.value}`);
    out.push(
      `  source says ${stated.duration.field} ${stated.duration.value} (billed)` +
        (times.length ? `; ${times.join(', ')} (shown for reference: the duration is billed from the start)` : ''),
    );
  }
  if (!entry.billable) out.push('  marked non-billable in the source');
  if (entry.billedAtSource) out.push('  marked as already billed in the source');
  if (entry.approved === false) out.push('  not approved in the source');
  if (state) out.push(`  ${invoicedSentence(entry, state)}`);
  if (lines.length === 0) {
    out.push('  no rated lines: nothing of this entry is billed');
    return out.join('\n');
  }

  const first = lines[0]!;
  const entrySteps = first.trace.filter((s) => ENTRY_KINDS.has(s.kind));
  if (entrySteps.length) {
    out.push('  entry:');
    for (const s of entrySteps) out.push(`    ${step(s)}`);
  }

  let total = dec(0);
  for (const l of lines) {
    const span =
      l.start && l.end ? `${formatLocal(zone, Date.parse(l.start))}–${formatLocal(zone, Date.parse(l.end), false)}` : `${l.date}`;
    const what = l.kind === 'time' ? `${l.hoursRaw} h worked → ${l.quantity} h billed` : `${l.kind}: ${l.quantity} × ${l.unitPrice}`;
    out.push(`  piece ${l.piece} [${l.kind}] ${span} (billed on ${l.date}): ${what}`);
    for (const s of l.trace) {
      if (l.piece === first.piece && ENTRY_KINDS.has(s.kind)) continue;
      out.push(`    ${step(s)}`);
    }
    const amount = dec(l.amount);
    total = total.plus(amount);
    const unit = l.kind === 'time' ? ' h' : '';
    out.push(
      `    = ${l.quantity}${unit} × ${l.unitPrice} = ${fixed(amount, 2)}${amount.decimalPlaces() > 2 ? ` (exact ${l.amount}; rounded once per invoice line)` : ''}  [rule ${l.rule}${l.label ? `, label "${l.label.trim()}"` : ''}]`,
    );
    for (const p of placements ?? []) {
      if (p.piece === l.piece) out.push(`    → invoice ${p.invoiceKey}, line "${p.lineDescription}" (line amount ${p.lineAmount})`);
    }
    if (placements && !placements.some((p) => p.piece === l.piece)) out.push('    → not on an invoice yet');
  }
  out.push(`  total for this entry: ${fixed(total, 2)} ${first.currency}`);
  return out.join('\n');
}
