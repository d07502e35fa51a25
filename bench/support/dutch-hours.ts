/**
 * Generated Dutch-style timesheet rows, shaped like example/hours.csv (`;`, decimal comma,
 * dd-MM-yyyy, start/end/break or hours, two clients, night shifts, km on field-service rows).
 * Deterministic: row i is always the same. Every row is valid and has a unique derived id
 * (date, start, worker, client, project): each worker works at most one shift a day.
 */
export const DUTCH_HEADER = [
  'Datum',
  'Begin',
  'Eind',
  'Pauze',
  'Uren',
  'Medewerker',
  'Rol',
  'Klant',
  'Project',
  'Goedgekeurd',
  'Declarabel',
  'Km',
  'Opmerking',
] as const;

const WORKERS = 1000;
const FIRST_DAY = Date.UTC(2024, 0, 1) / 86_400_000;
const FIRST_NAMES = ['Anna', 'Bram', 'Chris', 'Dirk', 'Eva', 'Femke', 'Gijs', 'Hanna', 'Ivo', 'Joost'];
const LAST_NAMES = ['de Vries', 'Jansen', 'Bakker', 'Smit', 'Mulder', 'Visser', 'de Boer', 'Peters', 'Hendriks', 'Dekker'];
const ACME_PROJECTS = ['Website', 'Support', 'Migratie', 'Intern overleg'];
const GLOBEX_PROJECTS = ['Montage', 'Nachtdienst', 'Onderhoud'];
const NOTES = ['', '', '', 'Kick-off', 'Ontwerp; wireframes', 'Overleg met "klant"', 'Storing verholpen'];

const pad = (n: number) => (n < 10 ? `0${n}` : String(n));
const clock = (min: number) => `${pad(Math.floor(min / 60) % 24)}:${pad(min % 60)}`;

export function dutchHoursRow(i: number): string[] {
  const w = i % WORKERS;
  const day = FIRST_DAY + Math.floor(i / WORKERS);
  const d = new Date(day * 86_400_000);
  const date = `${pad(d.getUTCDate())}-${pad(d.getUTCMonth() + 1)}-${d.getUTCFullYear()}`;
  const r = Math.imul(i ^ 0x9e3779b9, 2654435761) >>> 0;
  const worker = `${FIRST_NAMES[w % 10]} ${LAST_NAMES[Math.floor(w / 10) % 10]} ${Math.floor(w / 100) || ''}`.trim();
  const globex = w % 3 === 0;
  const client = globex ? (r % 2 ? 'Globex GmbH' : 'Globex') : 'Acme B.V.';
  const project = globex ? GLOBEX_PROJECTS[(r >>> 3) % 3]! : ACME_PROJECTS[(r >>> 3) % 4]!;
  const role = globex ? '' : w % 7 === 0 ? 'senior' : 'consultant';
  const kind = (r >>> 8) % 20;
  let begin = '';
  let end = '';
  let pauze = '';
  let uren = '';
  if (kind === 0) {
    // Hours only: 7,5 style.
    uren = `${4 + ((r >>> 12) % 5)},${(r >>> 16) % 2 ? '5' : '25'}`;
  } else {
    const night = globex && kind < 5;
    const startMin = night ? 20 * 60 + ((r >>> 12) % 9) * 30 : 7 * 60 + ((r >>> 12) % 12) * 15;
    const len = 240 + ((r >>> 16) % 21) * 15;
    begin = clock(startMin);
    end = clock(startMin + len);
    const b = (r >>> 20) % 4;
    pauze = b === 0 ? '' : b === 1 ? '30' : b === 2 ? '0:30' : '0,5';
  }
  const approved = (r >>> 24) % 25 === 0 ? 'nee' : 'ja';
  const billable = project === 'Intern overleg' ? 'nee' : 'ja';
  const km = globex && (r >>> 26) % 3 === 0 ? String(5 + ((r >>> 10) % 80)) : '';
  return [date, begin, end, pauze, uren, worker, role, client, project, approved, billable, km, NOTES[(r >>> 5) % NOTES.length]!];
}
