// Labels in the reader's language (domain/i18n/texts.ts holds the texts) and
// the choice of that language from an Accept-Language header. Pure.
import {
  BOT_REASON_TEXT,
  CHANNEL_TEXT,
  DELIVERY_CODE_TEXT,
  ERROR_REASON_TEXT,
  ERROR_TYPE_TEXT,
  LANGUAGES,
  PART_TEXT,
  RESULT_DETAIL_TEXT,
  RUN_STATUS_TEXT,
  SEND_RESULT_TEXT,
  UNSENT_REASON_TEXT,
  type Language,
  type Text,
} from './texts';

export * from './texts';

export function isLanguage(v: unknown): v is Language {
  return typeof v === 'string' && (LANGUAGES as readonly string[]).includes(v);
}

/**
 * The language to answer in: the first of the header's languages (by q, then
 * order) we have, by primary tag (ja-JP reads as ja); else the default.
 * `*` means any, so the default.
 */
export function pickLanguage(acceptLanguage: string | undefined, fallback: Language): Language {
  if (!acceptLanguage) return fallback;
  const ranges = acceptLanguage
    .split(',')
    .map((part, i) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
      return { tag: tag.trim().toLowerCase(), q: q === undefined ? 1 : Number(q), i };
    })
    .filter((r) => r.tag !== '' && Number.isFinite(r.q) && r.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i);
  for (const r of ranges) {
    if (r.tag === '*') return fallback;
    const primary = r.tag.split('-')[0];
    if (isLanguage(primary)) return primary;
  }
  return fallback;
}

function pick(table: Readonly<Record<string, Text>>, key: string | null | undefined, lang: Language) {
  if (key === null || key === undefined) return null;
  return Object.prototype.hasOwnProperty.call(table, key) ? table[key]![lang] : null;
}

/** Labels for one language: each returns null for a value it has no text for (the code alone is shown). */
export function labelsFor(lang: Language) {
  return {
    language: lang,
    runStatus: (s: string | null | undefined) => pick(RUN_STATUS_TEXT, s, lang),
    result: (r: string | null | undefined) => pick(SEND_RESULT_TEXT, r, lang),
    /** A stored result detail in the reader's language; one we have no text for is returned as stored. */
    detail: (d: string | null | undefined) => (d ? (RESULT_DETAIL_TEXT.get(d)?.[lang] ?? d) : null),
    unsentReason: (r: string | null | undefined) => pick(UNSENT_REASON_TEXT, r, lang),
    errorReason: (r: string | null | undefined) => pick(ERROR_REASON_TEXT, r, lang),
    errorType: (r: string | null | undefined) => pick(ERROR_TYPE_TEXT, r, lang),
    botReason: (r: string) => pick(BOT_REASON_TEXT, r, lang) ?? r,
    part: (p: string | null | undefined) => pick(PART_TEXT, p, lang),
    channel: (c: string | null | undefined) => pick(CHANNEL_TEXT, c, lang),
    codeMeaning: (code: number | null | undefined) =>
      code === null || code === undefined ? null : (DELIVERY_CODE_TEXT.get(code)?.meaning[lang] ?? null),
    codeRemedy: (code: number | null | undefined) =>
      code === null || code === undefined ? null : DELIVERY_CODE_TEXT.get(code)?.remedy[lang] || null,
  };
}

export type Labels = ReturnType<typeof labelsFor>;
