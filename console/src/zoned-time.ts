// Wall-clock times in the account's time zone (accountTimeZone(), from
// ACCOUNT_TIME_ZONE) for <input type="datetime-local">: what an operator types
// is a time in the account's zone, whatever the browser's own zone is, and the
// API gets it as ISO 8601 with that zone's offset at that moment.

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/;

function wallParts(zone: string, at: number) {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(at));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return {
    year: get('year'),
    month: get('month'),
    day: get('day'),
    hour: get('hour') % 24,
    minute: get('minute'),
    second: get('second'),
  };
}

/** The zone's offset from UTC at instant `at`, in milliseconds (e.g. +9 h for Asia/Tokyo). */
function offsetMs(zone: string, at: number): number {
  const w = wallParts(zone, at);
  const wallAsUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return wallAsUtc - Math.floor(at / 1000) * 1000;
}

const pad = (n: number, width = 2) => String(Math.abs(n)).padStart(width, '0');

/**
 * `2026-12-24T10:00` read in `zone` as ISO 8601 with the zone's offset, e.g.
 * `2026-12-24T10:00:00+09:00`; null when `local` is not such a value.
 * `seconds` (59 for an inclusive upper bound) fills the seconds.
 */
export function zonedLocalToIso(local: string, zone: string, seconds = 0): string | null {
  const m = LOCAL.exec(local);
  if (!m) return null;
  const [, y, mo, d, h, mi] = m.map(Number) as [number, number, number, number, number, number];
  const wall = Date.UTC(y, mo - 1, d, h, mi, seconds);
  // The offset at the instant the wall time names (twice: the first guess may sit across a DST change).
  const offset = offsetMs(zone, wall - offsetMs(zone, wall));
  const sign = offset < 0 ? '-' : '+';
  const minutes = Math.abs(offset) / 60_000;
  return `${local}:${pad(seconds)}${sign}${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}`;
}

/** An instant as the `datetime-local` value of its wall time in `zone`. */
export function isoToZonedLocal(at: Date | string, zone: string): string {
  const w = wallParts(zone, new Date(at).getTime());
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}`;
}
