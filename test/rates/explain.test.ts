import { describe, expect, it } from '@jest/globals';
import { formatExplain } from '../../src/rates';
import { DUTCH_BREAKS, RETAIL } from './cards';
import { inputs, ratesFromYaml, shift, ZONE } from './helpers';

describe('explain', () => {
  it('Given a night shift on the Dutch card, When explained, Then each piece shows span, hours, base, surcharges and the line', () => {
    const { rates } = ratesFromYaml(DUTCH_BREAKS);
    const e = shift('2026-03-02 16:00', '2026-03-03 02:00', { project: 'Warehouse' });
    const o = rates.price(inputs([e]))[0]!;
    if (!o.ok) throw new Error(o.reason);
    const text = formatExplain(
      e,
      o.lines,
      [{ piece: 1, invoiceKey: 'acme-2026-03-files-1', lineDescription: 'Warehouse — Anna (evening +20%)', lineAmount: '180.00' }],
      ZONE,
    );
    expect(text).toContain('worked 2026-03-02 16:00 – 2026-03-03 02:00 (Europe/Amsterdam): 10:00 h gross');
    expect(text).toContain('statutory break of 30 min after 5.5 h deducted (taken in the middle of the shift)');
    expect(text).toMatch(/piece 1 \[time\] 2026-03-02 18:00–20:45 .*: 2\.7500 h worked → 2\.75 h billed/);
    expect(text).toContain('✓ surcharge evening +20%: applies: Monday is one of mon, tue, wed, thu, fri; inside the 18:00–22:00 band');
    expect(text).toContain('· surcharge weekend +70%: skipped: Monday is not one of sat, sun');
    expect(text).toContain('= 2.75 h × 48.00 = 132.00');
    expect(text).toContain('→ invoice acme-2026-03-files-1, line "Warehouse — Anna (evening +20%)" (line amount 180.00)');
    expect(text).toContain('total for this entry: 480.00 EUR');
  });

  it('Given a rounded retail shift, When explained, Then the rounding and the exact arithmetic are stated', () => {
    const { rates } = ratesFromYaml(RETAIL);
    const e = shift('2026-03-03 17:50', '2026-03-03 21:04');
    const o = rates.price(inputs([e]))[0]!;
    if (!o.ok) throw new Error(o.reason);
    const text = formatExplain(e, o.lines, undefined, ZONE);
    expect(text).toContain('3:14 h rounded to the nearest 15 min → 3:15 h (added to the last piece)');
    expect(text).toContain('= 3.08 h × 31.25 = 96.25');
    expect(text).toContain('total for this entry: 100.50 EUR');
  });

  it.each([
    [{ approved: false }, 'not approved (client acme requires approval)', 'not approved in the source'],
    [{ billable: false }, 'marked non-billable in the source', 'marked non-billable in the source'],
    [{ billedAtSource: true }, 'already billed in the source system', 'marked as already billed in the source'],
  ])(
    'Given an entry kept but not invoiced (%o) When explained Then it says it is not invoiced, why, and where such entries are listed',
    (over, reason, flag) => {
      const e = { ...shift('2026-03-02 09:00', '2026-03-02 17:00'), ...over };
      const text = formatExplain(e, [], undefined, ZONE, { status: 'excluded', reason });
      expect(text).toContain(`  ${flag}`);
      expect(text).toContain(`not invoiced: ${reason}. The entry is kept and listed by \`hourbridge report excluded\`.`);
    },
  );
});
