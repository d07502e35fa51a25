import { describe, expect, it } from '@jest/globals';
import { brief, inputs, linesOf, priceOne, ratesFromYaml, shift } from './helpers';

const card = `
rates:
  rulesets:
    tracker:
      base:
        - id: as-in-harvest
          sourceRate: true
        - id: support-flat
          match: { project: Support }
          hourly: 50.00
      surcharges:
        - id: night
          percent: 50
          time: { from: "22:00", to: "06:00" }
`;

describe('base rate taken from the source (e.g. Harvest billable_rate)', () => {
  const { rates, issues } = ratesFromYaml(card);

  it('Given a card whose base rule bills the source rate When compiled Then it has no issues', () => {
    expect(issues).toEqual([]);
  });

  it('Given an entry carrying a source rate of 95.5 When priced Then that rate is billed and surcharges still apply to it', () => {
    const lines = linesOf(priceOne(rates, shift('2026-03-02 20:00', '2026-03-02 23:00', { sourceRate: '95.5' })));
    // 2 h × 95.50 + 1 h × 143.25 (+50 % night)
    expect(brief(lines)).toEqual([
      ['2.00', '95.50', '191.00', ''],
      ['1.00', '143.25', '143.25', ' (night +50%)'],
    ]);
    expect(lines[0]!.trace.find((t) => t.kind === 'base')!.detail).toContain('as the source system rates this entry');
  });

  it('Given a more specific rule When it matches Then it wins over the source rate', () => {
    const lines = linesOf(priceOne(rates, shift('2026-03-02 09:00', '2026-03-02 10:00', { sourceRate: '95.5', project: 'Support' })));
    expect(brief(lines)).toEqual([['1.00', '50.00', '50.00', '']]);
  });

  it('Given an entry without a source rate When priced by that rule Then it cannot be priced and says why', () => {
    const outcome = priceOne(rates, shift('2026-03-02 09:00', '2026-03-02 10:00'));
    expect(outcome).toMatchObject({ ok: false, field: 'sourceRate' });
    expect(outcome.ok ? '' : outcome.reason).toContain('carries none');
  });

  it('Given a source rate in another currency than the client is invoiced in When priced by that rule Then it cannot be priced and the reason names both currencies', () => {
    const outcome = priceOne(rates, shift('2026-03-02 09:00', '2026-03-02 10:00', { sourceRate: '95.5', sourceCurrency: 'USD' }));
    expect(outcome).toMatchObject({ ok: false, field: 'sourceCurrency' });
    const reason = outcome.ok ? '' : outcome.reason;
    expect(reason).toContain('in USD (95.5 per hour)');
    expect(reason).toContain('client "acme" is invoiced in EUR');
    // The same rate in the client's currency (any letter case) is billed; a more specific hourly rule needs no source currency.
    expect(
      brief(linesOf(priceOne(rates, shift('2026-03-02 09:00', '2026-03-02 10:00', { sourceRate: '95.5', sourceCurrency: 'eur' })))),
    ).toEqual([['1.00', '95.50', '95.50', '']]);
    expect(
      brief(
        linesOf(
          priceOne(rates, shift('2026-03-02 09:00', '2026-03-02 10:00', { sourceRate: '95.5', sourceCurrency: 'USD', project: 'Support' })),
        ),
      ),
    ).toEqual([['1.00', '50.00', '50.00', '']]);
  });

  it('Given entries in one batch with the same source rate in two currencies When priced Then only the one in the client currency is billed (the rate cache does not carry one over to the other)', () => {
    const outcomes = rates.price(
      inputs([
        shift('2026-03-03 09:00', '2026-03-03 10:00', { sourceRate: '80', sourceCurrency: 'EUR' }),
        shift('2026-03-03 11:00', '2026-03-03 12:00', { sourceRate: '80', sourceCurrency: 'GBP' }),
      ]),
    );
    expect(outcomes.map((o) => o.ok)).toEqual([true, false]);
    expect(outcomes[1]!.ok ? '' : outcomes[1]!.reason).toContain('in GBP');
  });

  it('Given a rule with both hourly and sourceRate When parsed Then it is a config error', () => {
    expect(() => ratesFromYaml(card.replace('sourceRate: true', 'sourceRate: true\n          hourly: 10'))).toThrow(
      /exactly one of hourly, fixed, markup or sourceRate/,
    );
  });
});
