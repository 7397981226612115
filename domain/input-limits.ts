// What every value the API accepts must satisfy before it may reach
// PostgreSQL, whatever route it came through: text PostgreSQL can store (no
// NUL character, no unpaired UTF-16 surrogate), JSON of bounded depth and
// size, integers within the column type, times within a range PostgreSQL and
// JavaScript agree on. The API applies these once for every request
// (api/plugins/input-guard.ts); the CSV import applies the text rule per cell.

/** Deepest nesting of any JSON request body (objects and arrays counted, the body itself being 1). */
export const MAX_BODY_DEPTH = 32;

/** Free-form JSON a client stores and reads back (lead attributes): nesting and size. */
export const FREE_JSON_LIMITS = { maxDepth: 8, maxBytes: 32 * 1024 } as const;

/** PostgreSQL integer (int4) and bigint (int8) ids. Bigint ids are taken up to 18 digits. */
export const MAX_INT_ID = 2_147_483_647;
export const BIGINT_ID_PATTERN = '^[1-9][0-9]{0,17}$';

/** Times accepted anywhere: from 1900 to the end of 9999 (UTC). */
export const MIN_TIME_MS = Date.UTC(1900, 0, 1);
export const MAX_TIME_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why PostgreSQL could not store this text as given, or null when it can. */
export function textProblem(s: string): string | null {
  if (s.includes('\u0000')) return 'contains a NUL character (\\u0000), which cannot be stored';
  if (LONE_SURROGATE.test(s)) return 'contains an unpaired UTF-16 surrogate; send valid Unicode text';
  return null;
}

export interface InputProblem {
  /** Where, e.g. `body.attributes.plan` or `querystring.name`. */
  path: string;
  message: string;
}

const join = (path: string, key: string | number) => `${path}.${key}`;

/**
 * The first problem in a parsed request part (JSON body, query string or
 * path parameters): text anywhere (values and property names) and nesting
 * deeper than `maxDepth`. Walks with an explicit stack, so no input depth can
 * exhaust ours.
 */
export function findInputProblem(
  value: unknown,
  path: string,
  maxDepth = MAX_BODY_DEPTH,
): InputProblem | null {
  // `top` is the field directly under the part (body.attributes): what a too-deep value is reported as.
  const stack: Array<{ v: unknown; path: string; top: string; depth: number }> = [
    { v: value, path, top: path, depth: 0 },
  ];
  while (stack.length) {
    const { v, path: at, top, depth } = stack.pop()!;
    const under = (key: string | number) => (depth === 0 ? join(path, key) : top);
    if (typeof v === 'string') {
      const problem = textProblem(v);
      if (problem) return { path: at, message: problem };
      continue;
    }
    if (typeof v !== 'object' || v === null) continue;
    if (depth + 1 > maxDepth) {
      return { path: top, message: `nested deeper than ${maxDepth} levels of objects and arrays` };
    }
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--)
        stack.push({ v: v[i], path: join(at, i), top: under(i), depth: depth + 1 });
      continue;
    }
    if (Buffer.isBuffer(v)) continue;
    const keys = Object.keys(v);
    for (let i = keys.length - 1; i >= 0; i--) {
      const k = keys[i]!;
      const problem = textProblem(k);
      if (problem) return { path: at, message: `a property name ${problem}` };
      stack.push({
        v: (v as Record<string, unknown>)[k],
        path: join(at, k),
        top: under(k),
        depth: depth + 1,
      });
    }
  }
  return null;
}

/** Nesting depth of a JSON value (a scalar is 0, `{}` is 1), counted no further than `stopAt`. */
export function jsonDepth(value: unknown, stopAt: number): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    const d = depth + 1;
    if (d > deepest) deepest = d;
    if (deepest > stopAt) return deepest;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, d]);
  }
  return deepest;
}

/** Why a free-form JSON value is refused (too deep or too large), or null. */
export function freeJsonProblem(
  value: unknown,
  limits: { maxDepth: number; maxBytes: number } = FREE_JSON_LIMITS,
): string | null {
  if (jsonDepth(value, limits.maxDepth) > limits.maxDepth)
    return `must be at most ${limits.maxDepth} levels of objects and arrays deep`;
  const bytes = Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
  if (bytes > limits.maxBytes) return `must be at most ${limits.maxBytes} bytes as JSON (is ${bytes})`;
  return null;
}

/** Epoch milliseconds of a time, or why it cannot be used (unparseable, or outside 1900–9999). */
export function timeProblem(ms: number): string | null {
  if (Number.isNaN(ms)) return 'is not a valid time';
  if (ms < MIN_TIME_MS || ms > MAX_TIME_MS) return 'must be between 1900-01-01 and 9999-12-31 (UTC)';
  return null;
}

const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,12})?)?([Zz]|[+-](\d{2})(?::?(\d{2}))?)$/;

/**
 * Epoch ms of an ISO 8601 time with zone whose every field is real (no
 * 31 February, no hour 24, no leap second: Date.parse would roll them over,
 * PostgreSQL refuses them) and within 1900–9999; null otherwise.
 */
export function parseZonedTime(v: string): number | null {
  const m = ISO_TIME.exec(v);
  if (!m) return null;
  const [, y, mo, d, h, mi, sec, , , oh, om] = m;
  const year = Number(y);
  const month = Number(mo);
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || Number(d) < 1 || Number(d) > daysInMonth) return null;
  if (Number(h) > 23 || Number(mi) > 59 || Number(sec ?? 0) > 59) return null;
  if (oh !== undefined && (Number(oh) > 15 || Number(om ?? 0) > 59)) return null;
  // Date.parse wants upper-case T and Z, a colon in the offset and at most milliseconds.
  const [, date, time, , zone] = /^(.{10}).(\d{2}:\d{2}(?::\d{2})?)(\.\d+)?(.*)$/.exec(v)!;
  const offset = zone!.toUpperCase() === 'Z' ? 'Z' : `${zone!.slice(0, 3)}:${om ?? '00'}`;
  const frac = m[7] ? m[7].slice(0, 4) : '';
  const ms = Date.parse(`${date}T${time}${frac}${offset}`);
  return timeProblem(ms) === null ? ms : null;
}
