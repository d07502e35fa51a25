import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { MapResult } from '../../src/connectors/contract';
import { TimeEntry } from '../../src/domain/time-entry';
import { RestConfigSchema, type RestConfig, type RestConfigInput } from './config.schema';
import { restToTimeEntry } from './to-time-entry';

const NOW = new Date('2026-03-10T12:00:00Z');

function config(fields: Record<string, unknown>, over: Partial<RestConfigInput> = {}): RestConfig {
  return RestConfigSchema.parse({
    id: 'api',
    kind: 'rest',
    baseUrl: 'https://api.example.com/v1',
    auth: { type: 'bearer', secret: 'fake-token' },
    request: { path: '/entries' },
    timeZone: 'Europe/Amsterdam',
    fields: { externalId: '/id', worker: '/user/name', client: '/client', ...fields },
    ...over,
  });
}

function map(c: RestConfig, data: unknown): MapResult {
  return restToTimeEntry({ ref: {}, data }, c, NOW);
}
function entry(c: RestConfig, data: unknown) {
  const m = map(c, data);
  if (m.kind !== 'entry') throw new Error(`expected an entry, got ${JSON.stringify(m)}`);
  expect(() => TimeEntry.parse(m.entry)).not.toThrow();
  return m.entry;
}

const base = { id: 7, user: { name: 'Ada Worker' }, client: 'Acme BV' };

describe('rest mapping: the billed duration', () => {
  it('Given a stated duration and start/end times that disagree, when mapped, then the duration is billed, anchored at the start, and the times are kept as sent', () => {
    const c = config({ start: '/start', end: '/end', duration: { path: '/minutes', unit: 'minutes' } });
    const e = entry(c, { ...base, start: '2026-03-02T15:00:00+01:00', end: '2026-03-02T17:00:00+01:00', minutes: 126.6 });
    expect(e.durationSeconds).toBe(7596);
    expect(e.start).toBe('2026-03-02T14:00:00Z');
    expect(e.end).toBe('2026-03-02T16:06:36Z');
    expect(e.date).toBe('2026-03-02');
    expect(e.provenance.sourceTimes).toEqual({
      duration: { field: '/minutes', value: '126.6' },
      start: { field: '/start', value: '2026-03-02T15:00:00+01:00' },
      end: { field: '/end', value: '2026-03-02T17:00:00+01:00' },
    });
  });

  it('Given only start and end (local times of day on a date), when mapped, then the span is billed, over midnight too', () => {
    const c = config({
      date: { path: '/day', format: 'dd-MM-yyyy' },
      start: { path: '/from', format: 'local' },
      end: { path: '/to', format: 'local' },
    });
    const e = entry(c, { ...base, day: '02-03-2026', from: '22:00', to: '6:30' });
    expect(e.durationSeconds).toBe(8.5 * 3600);
    expect(e.start).toBe('2026-03-02T21:00:00Z');
    expect(e.end).toBe('2026-03-03T05:30:00Z');
    expect(e.provenance.sourceTimes).toBeUndefined();
  });

  it('reads durations as the spreadsheet parsers do: hours as 7:30 or 7,5, text H:MM, ISO 8601, milliseconds', () => {
    const cases: Array<[string, unknown, number]> = [
      ['hours', 7.5, 27_000],
      ['hours', '7:30', 27_000],
      ['hours', '7,5', 27_000],
      ['text', '1:45', 6300],
      ['iso8601', 'PT1H30M', 5400],
      ['milliseconds', 90_000, 90],
      ['seconds', '3600', 3600],
    ];
    for (const [unit, value, seconds] of cases) {
      const c = config({ date: '/day', duration: { path: '/d', unit } });
      expect(entry(c, { ...base, day: '2026-03-02', d: value }).durationSeconds).toBe(seconds);
    }
  });

  it('Given any start and a duration in minutes, the entry ends exactly the duration after its start (property)', () => {
    const c = config({ start: { path: '/s', format: 'unix' }, duration: { path: '/m', unit: 'minutes' } });
    fc.assert(
      fc.property(fc.integer({ min: 1_600_000_000, max: 1_900_000_000 }), fc.integer({ min: 0, max: 24 * 60 }), (s, m) => {
        const e = entry(c, { ...base, s, m });
        expect(e.durationSeconds).toBe(m * 60);
        expect((Date.parse(e.end!) - Date.parse(e.start!)) / 1000).toBe(m * 60);
      }),
      { numRuns: 200 },
    );
  });
});

describe('rest mapping: values', () => {
  it('maps templates, constants, defaults, tags, decimals with a decimal comma, yes/no words and JSON:API included resources', () => {
    const c = config(
      {
        date: '/attributes/date',
        duration: { path: '/attributes/time', unit: 'minutes' },
        worker: { template: '{/relationships/person/data/attributes/first_name} {/relationships/person/data/attributes/last_name}' },
        client: { path: '/relationships/company/data/attributes/name', default: 'Walk-in' },
        project: { value: 'Support' },
        tags: { path: '/attributes/labels', item: '/name' },
        billable: { path: '/attributes/billable', truthy: ['ja'], falsy: ['nee'] },
        approved: { path: '/attributes/status', equals: [1] },
        billedAtSource: { path: '/attributes/invoiced' },
        sourceRate: { path: '/attributes/rate' },
        costRate: { path: '/attributes/cost_cents', divideBy: 100 },
        sourceCurrency: { value: 'EUR' },
      },
      { locale: { decimal: ',' } },
    );
    const e = entry(c, {
      id: '146',
      attributes: {
        date: '2026-03-02',
        time: 480,
        labels: [{ name: 'onsite' }, { name: 'rush' }],
        billable: 'Ja',
        status: 1,
        invoiced: false,
        rate: '85,50',
        cost_cents: 16000,
      },
      relationships: {
        person: { data: { type: 'people', attributes: { first_name: 'Ada', last_name: 'Lovelace' } } },
        company: { data: null },
      },
    });
    expect(e).toMatchObject({
      externalId: '146',
      worker: { name: 'Ada Lovelace' },
      client: 'Walk-in',
      project: 'Support',
      tags: ['onsite', 'rush'],
      billable: true,
      approved: true,
      billedAtSource: false,
      sourceRate: '85.50',
      costRate: '160',
      sourceCurrency: 'EUR',
      durationSeconds: 28_800,
      timeZone: 'Europe/Amsterdam',
    });
  });

  it('Given yes/no fields that are mapped but blank, then they read as no (yes with negate); unmapped, approval is unknown', () => {
    const mapped = config({ date: '/day', duration: '/s', billable: '/b', approved: '/a', billedAtSource: { path: '/x', negate: true } });
    expect(entry(mapped, { ...base, day: '2026-03-02', s: 60, b: null, a: '' })).toMatchObject({
      billable: false,
      approved: false,
      billedAtSource: true,
    });
    const unmapped = config({ date: '/day', duration: '/s' });
    expect(entry(unmapped, { ...base, day: '2026-03-02', s: 60 })).toMatchObject({ billable: true, approved: null, billedAtSource: false });
  });

  it('Given skipWhen rules, when a record matches, then it is skipped with the reason, not quarantined', () => {
    const c = config(
      { date: '/day', duration: '/s' },
      { skipWhen: [{ path: '/timer_started_at', blank: false, reason: 'running timer' }] },
    );
    const m = map(c, { ...base, day: '2026-03-02', s: 60, timer_started_at: '2026-03-02T10:00:00Z' });
    expect(m).toEqual({ kind: 'skip', reason: 'running timer (/timer_started_at is set): record 7' });
  });
});

describe('rest mapping: errors', () => {
  it('Given a record with several bad values, when mapped, then it is invalid and every problem names the field, the pointer, the value and what was expected', () => {
    const c = config({ date: '/day', duration: { path: '/hours', unit: 'hours' }, billable: '/billable', sourceRate: '/rate' });
    const m = map(c, { ...base, user: { name: '' }, day: '2026-02-30', hours: 'lots', billable: 'perhaps', rate: '-5' });
    expect(m.kind).toBe('invalid');
    if (m.kind !== 'invalid') return;
    expect(m.externalId).toBe('7');
    const by = Object.fromEntries(m.problems.map((p) => [p.field, p]));
    expect(by.date).toMatchObject({ column: '/day', value: '2026-02-30' });
    expect(by.date!.reason).toMatch(/^value "2026-02-30": expected a date.*February 2026 has 28 days/);
    expect(by.durationSeconds).toMatchObject({ column: '/hours', value: 'lots' });
    expect(by.durationSeconds!.reason).toMatch(/^value "lots": expected a number of hours/);
    expect(by.worker).toMatchObject({ column: '/user/name', value: '' });
    expect(by.billable).toMatchObject({ column: '/billable', value: 'perhaps' });
    expect(by.billable!.reason).toMatch(/^value "perhaps": expected one of: yes/);
    expect(by.worker!.reason).toMatch(/^no value \(""\): expected a worker name/);
    expect(by.sourceRate).toMatchObject({ column: '/rate', value: '-5' });
  });

  it('Given a pointer that reaches an object, a missing id and a missing duration, when mapped, then each is named', () => {
    const c = config({ date: '/day', duration: { path: '/time', unit: 'seconds' }, project: '/project' });
    const m = map(c, { user: { name: 'Ada' }, client: 'Acme', day: '2026-03-02', project: { id: 3 } });
    expect(m.kind).toBe('invalid');
    if (m.kind !== 'invalid') return;
    expect(m.problems.map((p) => p.field).sort()).toEqual(['durationSeconds', 'externalId', 'project']);
    expect(m.problems.find((p) => p.field === 'project')!.reason).toMatch(/point at one of its fields/);
  });

  it('Given start and end without a duration where the end is not after the start, when mapped, then the end is the problem', () => {
    const c = config({ start: '/s', end: '/e' });
    const m = map(c, { ...base, s: '2026-03-02T10:00:00Z', e: '2026-03-02T09:00:00Z' });
    expect(m).toMatchObject({
      kind: 'invalid',
      problems: [{ field: 'end', column: '/e', reason: expect.stringMatching(/after the start/) }],
    });
  });
});
