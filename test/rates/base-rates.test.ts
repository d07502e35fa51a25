import { describe, expect, it } from '@jest/globals';
import { brief, client, entry, linesOf, priceOne, ratesFromYaml, shift } from './helpers';

const CARD = `
rates:
  rulesets:
    main:
      rounding:
        time: { incrementMinutes: 15, direction: nearest }
      base:
        - { id: acme-default, match: { client: acme }, hourly: 40 }
        - { id: acme-senior, match: { client: acme, role: senior }, hourly: 55 }
        - { id: acme-bob, match: { client: acme, worker: Bob }, hourly: 50 }
        - { id: acme-migration, match: { client: acme, project: Migration }, hourly: 60 }
        - { id: acme-migration-2027, match: { client: acme, project: Migration }, hourly: 65, from: 2027-01-01 }
`;

describe('base rates (rates v1)', () => {
  const { rates, issues } = ratesFromYaml(CARD.replace('hourly: 60 }', 'hourly: 60, until: 2026-12-31 }'));

  it('Given a valid card, When compiled, Then there are no config issues', () => {
    expect(issues).toEqual([]);
  });

  it('Given an entry matching only the client rule, When priced, Then the client rate applies', () => {
    const o = priceOne(rates, shift('2026-03-02 09:00', '2026-03-02 17:00'));
    expect(brief(linesOf(o))).toEqual([['8.00', '40.00', '320.00', '']]);
    expect(linesOf(o)[0]!.rule).toBe('acme-default');
  });

  it('Given a worker rule and a role rule both match, When priced, Then the worker rule wins (worker > role)', () => {
    const o = priceOne(rates, shift('2026-03-02 09:00', '2026-03-02 11:00', { worker: { name: 'Bob' }, role: 'Senior' }));
    expect(linesOf(o)[0]!.rule).toBe('acme-bob');
    expect(linesOf(o)[0]!.unitPrice).toBe('50.00');
  });

  it('Given a project rule and a worker rule both match, When priced, Then the project rule wins (project > worker)', () => {
    const o = priceOne(rates, shift('2026-03-02 09:00', '2026-03-02 11:00', { worker: { name: 'bob' }, project: 'migration' }));
    expect(linesOf(o)[0]!.rule).toBe('acme-migration');
  });

  it('Given a rate change at midnight inside a shift, When priced, Then each side of midnight gets the rate in force', () => {
    const o = priceOne(rates, shift('2026-12-31 22:00', '2027-01-01 02:00', { project: 'Migration' }));
    expect(brief(linesOf(o))).toEqual([
      ['2.00', '60.00', '120.00', ''],
      ['2.00', '65.00', '130.00', ''],
    ]);
    expect(linesOf(o).map((l) => l.date)).toEqual(['2026-12-31', '2027-01-01']);
  });

  it('Given 7h35m and 15-minute nearest rounding, When priced, Then 7.50 h is billed before pricing', () => {
    const o = priceOne(rates, shift('2026-03-02 09:00', '2026-03-02 16:35'));
    expect(brief(linesOf(o))).toEqual([['7.50', '40.00', '300.00', '']]);
    expect(linesOf(o)[0]!.hoursRaw).toBe('7.5833');
  });

  it('Given an entry of another client with no matching rule, When priced, Then it is not priced and the reason names the entry', () => {
    const o = priceOne(rates, shift('2026-03-02 09:00', '2026-03-02 10:00'), client('acme'));
    expect(o.ok).toBe(true);
    const none = ratesFromYaml(`
rates:
  rulesets:
    main:
      base:
        - { id: only-migration, match: { project: Migration }, hourly: 60 }
`).rates;
    const r = priceOne(none, shift('2026-03-02 09:00', '2026-03-02 10:00', { project: 'Support' }));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/no base rate .* project=Support/);
  });

  it('Given a date-only entry, When priced, Then hours are billed on its date at the rate in force', () => {
    const o = priceOne(rates, entry({ date: '2027-02-01', durationSeconds: 3 * 3600, project: 'Migration' }));
    expect(brief(linesOf(o))).toEqual([['3.00', '65.00', '195.00', '']]);
    expect(linesOf(o)[0]!.date).toBe('2027-02-01');
    expect(linesOf(o)[0]!.start).toBeUndefined();
  });

  it('Given two rules with the same match and overlapping dates, When compiled, Then a tie issue names the rule path', () => {
    const { issues: tie } = ratesFromYaml(CARD);
    expect(tie).toHaveLength(1);
    expect(tie[0]!.path).toEqual(['rates', 'rulesets', 'main', 'base', 4]);
    expect(tie[0]!.message).toMatch(/ties with "acme-migration"/);
  });

  it('Given two equally specific rules with different tags, When an entry has both tags, Then it is quarantined with a tie reason', () => {
    const { rates: r, issues: i } = ratesFromYaml(`
rates:
  rulesets:
    main:
      base:
        - { id: night-tag, match: { tags: [night] }, hourly: 45 }
        - { id: urgent-tag, match: { tags: [urgent] }, hourly: 50 }
`);
    expect(i).toEqual([]);
    const o = priceOne(r, shift('2026-03-02 09:00', '2026-03-02 10:00', { tags: ['night', 'urgent'] }));
    expect(o.ok).toBe(false);
    if (!o.ok) expect(o.reason).toMatch(/tie/);
    const ok = priceOne(r, shift('2026-03-02 09:00', '2026-03-02 10:00', { tags: ['urgent'] }));
    expect(linesOf(ok)[0]!.unitPrice).toBe('50.00');
  });

  it('Given rounding up and down, When priced, Then the direction is honoured', () => {
    for (const [dir, q] of [
      ['up', '1.25'],
      ['down', '1.00'],
      ['nearest', '1.00'],
    ] as const) {
      const { rates: r } = ratesFromYaml(`
rates:
  rulesets:
    main:
      rounding: { time: { incrementMinutes: 15, direction: ${dir} } }
      base: [{ id: b, hourly: 10 }]
`);
      const o = priceOne(r, shift('2026-03-02 09:00', '2026-03-02 10:07'));
      expect(linesOf(o)[0]!.quantity).toBe(q);
    }
  });
});
