import Holidays from 'date-holidays';

export interface HolidaySettings {
  country: string;
  region?: string;
  types: string[];
  add: Array<{ date: string; name: string }>;
  remove: string[];
}

let allCountries: Record<string, string> | undefined;

/** Returns a problem text when country/region are unknown to date-holidays, else undefined. */
export function checkHolidayPlace(country: string, region?: string): { field: 'country' | 'region'; message: string } | undefined {
  allCountries ??= new Holidays().getCountries();
  const c = country.toUpperCase();
  if (!allCountries[c]) {
    return {
      field: 'country',
      message: `unknown holiday country "${country}": expected an ISO country code known to date-holidays, e.g. NL, BE, DE, GB, US`,
    };
  }
  if (region) {
    const states = new Holidays().getStates(c) ?? {};
    if (!states[region.toUpperCase()]) {
      const known = Object.keys(states).slice(0, 8).join(', ');
      return {
        field: 'region',
        message: `unknown holiday region "${region}" for ${c}: expected ${known ? `one of ${known}${Object.keys(states).length > 8 ? ', …' : ''}` : 'no region (this country has none)'}`,
      };
    }
  }
  return undefined;
}

/**
 * Holiday calendar of one ruleset: date-holidays for the country/region, filtered by type,
 * plus the agreement's own additions and removals (agreements disagree with calendars: in
 * date-holidays, NL Good Friday and 5 May are typed "school"). Years load lazily.
 */
export class HolidayCalendar {
  private readonly years = new Map<number, Map<string, string>>();
  private readonly hd: Holidays;

  constructor(private readonly settings: HolidaySettings) {
    this.hd = settings.region
      ? new Holidays(settings.country.toUpperCase(), settings.region.toUpperCase())
      : new Holidays(settings.country.toUpperCase());
  }

  /** The holiday's name on a local date, or null. */
  nameOf(date: string): string | null {
    const year = Number(date.slice(0, 4));
    let map = this.years.get(year);
    if (!map) {
      map = new Map();
      const types = new Set(this.settings.types);
      for (const h of this.hd.getHolidays(year) || []) {
        if (types.has(h.type)) map.set(h.date.slice(0, 10), h.name);
      }
      for (const a of this.settings.add) if (a.date.startsWith(String(year))) map.set(a.date, a.name);
      for (const r of this.settings.remove) map.delete(r);
      this.years.set(year, map);
    }
    return map.get(date) ?? null;
  }
}
