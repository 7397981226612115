// The console's own words in Japanese (first) and English. Labels of machine
// values (statuses, results, reasons, codes) come from the API (GET /v1/labels
// and the `labels` of each answer), asked for in the same language. Times are
// shown in the account's time zone (ACCOUNT_TIME_ZONE, given by /v1/labels).
import { messages, type MessageKey } from './messages';

export type Language = 'ja' | 'en';

const STORAGE_KEY = 'console.language';

let language: Language = readStoredLanguage();
let timeZone = 'Asia/Tokyo';
const listeners = new Set<() => void>();

function readStoredLanguage(): Language {
  try {
    const stored = localStorage.getItem(STORAGE_KEY);
    if (stored === 'en' || stored === 'ja') return stored;
  } catch {
    // storage unavailable: the default
  }
  return 'ja';
}

export function currentLanguage(): Language {
  return language;
}

export function setLanguage(next: Language): void {
  language = next;
  try {
    localStorage.setItem(STORAGE_KEY, next);
  } catch {
    // not kept across reloads
  }
  document.documentElement.lang = next;
  listeners.forEach((l) => l());
}

export function onLanguageChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function setTimeZone(zone: string): void {
  timeZone = zone;
}

export function accountTimeZone(): string {
  return timeZone;
}

/** The console's text for `key`, with `{name}` placeholders filled from `vars`. */
export function t(key: MessageKey, vars: Record<string, string | number> = {}): string {
  const text = messages[language][key] ?? messages.ja[key];
  return text.replace(/\{(\w+)\}/g, (_, name: string) => String(vars[name] ?? `{${name}}`));
}

/** An ISO 8601 time in the account's time zone, e.g. 2026/12/03 16:05 (JST). */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(language === 'ja' ? 'ja-JP' : 'en-GB', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    timeZoneName: 'short',
  }).format(date);
}

export function formatNumber(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  return new Intl.NumberFormat(language === 'ja' ? 'ja-JP' : 'en-GB').format(n);
}

/** A rate in 0..1 as a percentage with one decimal; null (not measurable) as a dash. */
export function formatRate(rate: number | null | undefined): string {
  if (rate === null || rate === undefined) return t('notMeasurable');
  return `${(rate * 100).toFixed(1)}%`;
}

/**
 * A screen's own texts, kept in its file (so screens do not share one long
 * dictionary): `const tx = screenMessages({ ja: {...}, en: {...} }); tx('key')`.
 */
export function screenMessages<K extends string>(dict: {
  ja: Record<K, string>;
  en: Record<K, string>;
}): (key: K, vars?: Record<string, string | number>) => string {
  return (key, vars = {}) =>
    (dict[language][key] ?? dict.ja[key]).replace(/\{(\w+)\}/g, (_, name: string) =>
      String(vars[name] ?? `{${name}}`),
    );
}
