import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { checkRatesConfig } from '../../src/rates';
import { client } from './helpers';

function issuesOf(yaml: string) {
  return checkRatesConfig((parse(yaml) as { rates: unknown }).rates, [client('acme'), client('globex')]);
}

describe('rates config errors', () => {
  it('Given two equally specific rules for the same entries, When validated, Then the second rule is reported with its path', () => {
    const issues = issuesOf(`
rates:
  rulesets:
    main:
      base:
        - { id: a, match: { client: acme, role: senior }, hourly: 50 }
        - { id: b, match: { client: acme }, hourly: 40 }
        - { id: c, match: { role: Senior, client: acme }, hourly: 55, from: 2026-01-01 }
`);
    expect(issues).toEqual([
      { path: ['rates', 'rulesets', 'main', 'base', 2], message: expect.stringMatching(/base rule "c" ties with "a" \(base\[0\]\)/) },
    ]);
  });

  it('Given equal matches whose dates do not overlap, When validated, Then there is no tie', () => {
    expect(
      issuesOf(`
rates:
  rulesets:
    main:
      base:
        - { id: old, hourly: 40, until: 2025-12-31 }
        - { id: new, hourly: 45, from: 2026-01-01 }
`),
    ).toEqual([]);
  });

  it('Given an unknown holiday country, When validated, Then the country field is named', () => {
    const issues = issuesOf(`
rates:
  rulesets:
    main:
      holidays: { country: XX }
      base: [{ id: a, hourly: 40 }]
`);
    expect(issues).toEqual([
      { path: ['rates', 'rulesets', 'main', 'holidays', 'country'], message: expect.stringMatching(/unknown holiday country "XX"/) },
    ]);
  });

  it('Given an unknown holiday region, When validated, Then the region field is named with examples', () => {
    const issues = issuesOf(`
rates:
  rulesets:
    main:
      holidays: { country: DE, region: ZZ }
      base: [{ id: a, hourly: 40 }]
`);
    expect(issues[0]!.path).toEqual(['rates', 'rulesets', 'main', 'holidays', 'region']);
    expect(issues[0]!.message).toMatch(/unknown holiday region "ZZ" for DE: expected one of BB, BE/);
  });

  it('Given a band ending at 25:00, When validated, Then the message says what was expected', () => {
    const issues = issuesOf(`
rates:
  rulesets:
    main:
      base: [{ id: a, hourly: 40 }]
      surcharges:
        - { id: night, percent: 40, time: { from: '22:00', to: '25:00' } }
`);
    expect(issues).toEqual([
      { path: ['rates', 'rulesets', 'main', 'surcharges', 0, 'time', 'to'], message: 'expected HH:MM between 00:00 and 24:00, got 25:00' },
    ]);
  });

  it('Given a negative percent, When validated, Then the percent field is reported', () => {
    const issues = issuesOf(`
rates:
  rulesets:
    main:
      base: [{ id: a, hourly: 40 }]
      surcharges:
        - { id: weekend, percent: -10, days: [sat] }
`);
    expect(issues).toEqual([{ path: ['rates', 'rulesets', 'main', 'surcharges', 0, 'percent'], message: 'percent must be ≥ 0, got -10' }]);
  });

  it('Given an unknown key (a typo), When validated, Then it is an error, not a silent default', () => {
    const issues = issuesOf(`
rates:
  rulesets:
    main:
      base: [{ id: a, hourly: 40, hourlyy: 45 }]
`);
    expect(issues.map((i) => i.path)).toEqual([['rates', 'rulesets', 'main', 'base', 0]]);
    expect(issues[0]!.message).toMatch(/hourlyy/);
  });

  it('Given rules and rulesets naming unknown clients, When validated, Then each reference is reported', () => {
    const issues = issuesOf(`
rates:
  rulesets:
    main:
      clients: [acme, initech]
      base: [{ id: a, match: { client: umbrella }, hourly: 40 }]
`);
    expect(issues.map((i) => i.path)).toEqual([
      ['rates', 'rulesets', 'main', 'base', 0, 'match', 'client'],
      ['rates', 'rulesets', 'main', 'clients', 1],
      ['rates', 'rulesets'],
    ]);
    expect(issues[2]!.message).toMatch(/client "globex" is not priced by any ruleset/);
  });

  it('Given a base rule with two prices, When validated, Then exactly one is required', () => {
    const issues = issuesOf(`
rates:
  rulesets:
    main:
      base: [{ id: a, hourly: 40, fixed: 200 }]
`);
    expect(issues).toEqual([
      { path: ['rates', 'rulesets', 'main', 'base', 0], message: 'expected exactly one of hourly, fixed, markup or sourceRate, got 2' },
    ]);
  });

  it('Given a holiday surcharge without a calendar and a band of zero length, When validated, Then both are reported', () => {
    const issues = issuesOf(`
rates:
  rulesets:
    main:
      base: [{ id: a, hourly: 40 }]
      surcharges:
        - { id: hol, percent: 100, holiday: true }
        - { id: odd, percent: 10, time: { from: '06:00', to: '06:00' } }
`);
    expect(issues.map((i) => i.path)).toEqual([
      ['rates', 'rulesets', 'main', 'surcharges', 0, 'holiday'],
      ['rates', 'rulesets', 'main', 'surcharges', 1, 'time'],
    ]);
  });

  it('Given decimals written as strings and numbers, When validated, Then both are accepted', () => {
    expect(
      issuesOf(`
rates:
  rulesets:
    main:
      base: [{ id: a, hourly: '42.50' }, { id: b, match: { role: x }, hourly: 42.5 }]
`),
    ).toEqual([]);
  });
});
