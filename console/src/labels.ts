// The API's labels of machine values (GET /v1/labels) in the console's
// language, loaded once per language and shared by every screen.
import { api } from './api';
import type { Answer } from './api';
import { currentLanguage, setTimeZone } from './i18n';
import { useLoad } from './ui';

export type LabelsAnswer = NonNullable<Awaited<ReturnType<typeof fetchLabels>>>;

async function fetchLabels() {
  const { data, error, response } = await api.GET('/v1/labels');
  if (!data)
    throw new Error((error as { message?: string } | undefined)?.message ?? `HTTP ${response.status}`);
  // The account's time zone comes with the labels: every screen shows times in it.
  setTimeZone(data.timeZone);
  return data;
}

const cache = new Map<string, Promise<LabelsAnswer>>();

/** The labels in the console's language, read once per language (every screen and the frame share them). */
export function loadLabels(): Promise<LabelsAnswer> {
  const lang = currentLanguage();
  let p = cache.get(lang);
  if (!p) {
    p = fetchLabels();
    p.catch(() => cache.delete(lang));
    cache.set(lang, p);
  }
  return p;
}

/**
 * The account's time zone (ACCOUNT_TIME_ZONE), read with the labels: a screen
 * that turns typed times into instants waits for it rather than use the
 * default the frame has before the labels arrive.
 */
export async function loadAccountZone(): Promise<string> {
  return (await loadLabels()).timeZone;
}

export interface LabelLookup {
  runStatus(code: string): string;
  sendResult(code: string): string;
  channel(code: string): string;
  errorReason(code: string | null): string;
  detail(detail: string | null): string;
  codeMeaning(code: number | null): string;
  raw: LabelsAnswer | null;
}

function lookup(list: Array<{ code: string; label: string }> | undefined, code: string): string {
  return list?.find((x) => x.code === code)?.label ?? code;
}

export function labelLookup(l: LabelsAnswer | null): LabelLookup {
  return {
    runStatus: (c) => lookup(l?.runStatuses, c),
    sendResult: (c) => lookup(l?.sendResults, c),
    channel: (c) => lookup(l?.channels, c),
    errorReason: (c) => (c === null ? '—' : lookup(l?.errorReasons, c)),
    detail: (d) => (d === null ? '—' : (l?.resultDetails.find((x) => x.detail === d)?.label ?? d)),
    codeMeaning: (c) =>
      c === null ? '—' : (l?.deliveryCodes.find((x) => x.code === c)?.meaning ?? String(c)),
    raw: l,
  };
}

/** The labels for the console's language, as a lookup (codes shown as they are until loaded). */
export function useLabels(): LabelLookup {
  const { data } = useLoad(loadLabels, [currentLanguage()]);
  return labelLookup(data);
}

export type SendItem = Answer<'/v1/sends', 'get'>['items'][number];
