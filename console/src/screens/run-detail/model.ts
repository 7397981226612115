// What the run detail reads from the API (types taken from the generated
// client, so they follow the OpenAPI document) and the small formatting the
// manual asks for: percentages as the API rounds them, stars, labels.
import type { paths } from '../../api-types';
import { currentLanguage, t } from '../../i18n';
import { tx } from './texts';

type Json<P extends keyof paths, M extends 'get'> = paths[P][M] extends {
  responses: { 200: { content: { 'application/json': infer B } } };
}
  ? B
  : never;

export type Run = Json<'/v1/wizard-runs/{id}', 'get'>;
export type RunFigures = Json<'/v1/wizard-runs/{id}/figures', 'get'>;
export type Preflight = Json<'/v1/wizard-runs/{id}/preflight', 'get'>;
export type LabelsAnswer = Json<'/v1/labels', 'get'>;
export type FigureValues = RunFigures['figures']['all'];
export type UrlFigure = RunFigures['urls'][number];

/** Labels of machine values, from GET /v1/labels in the console's language; a code without one shows as itself. */
export interface Labels {
  status(code: string): string;
  result(code: string): string;
  detail(detail: string | null | undefined): string;
  unsentReason(code: string): string;
  errorReason(code: string | null | undefined): string;
  codeMeaning(code: number | null | undefined): string;
  channel(code: string): string;
}

export function makeLabels(answer: LabelsAnswer | null): Labels {
  const table = (rows: Array<{ code: string; label: string }> | undefined) =>
    new Map((rows ?? []).map((r) => [r.code, r.label]));
  const statuses = table(answer?.runStatuses);
  const results = table(answer?.sendResults);
  const unsent = table(answer?.unsentReasons);
  const errors = table(answer?.errorReasons);
  const channels = table(answer?.channels);
  const details = new Map((answer?.resultDetails ?? []).map((r) => [r.detail, r.label]));
  const codes = new Map((answer?.deliveryCodes ?? []).map((c) => [c.code, c.meaning]));
  return {
    status: (c) => statuses.get(c) ?? c,
    result: (c) => results.get(c) ?? c,
    detail: (d) => (d ? (details.get(d) ?? d) : ''),
    unsentReason: (c) => unsent.get(c) ?? c,
    errorReason: (c) => (c ? (errors.get(c) ?? c) : ''),
    codeMeaning: (c) => (c === null || c === undefined ? '' : (codes.get(c) ?? '')),
    channel: (c) => channels.get(c) ?? c,
  };
}

/** A rate the API gives in percent (rounded half-up to 2 decimals), e.g. 33.33%; null is 計測不可. */
export function formatPercent(rate: number | null | undefined): string {
  if (rate === null || rate === undefined) return t('notMeasurable');
  const n = new Intl.NumberFormat(currentLanguage() === 'ja' ? 'ja-JP' : 'en-GB', {
    maximumFractionDigits: 2,
  }).format(rate);
  return `${n}%`;
}

/** A share in 0..1 (complaint rates, the pre-flight's excluded share) as a percentage. */
export function formatShare(share: number | null | undefined): string {
  if (share === null || share === undefined) return t('notMeasurable');
  return formatPercent(Math.round(share * 10000) / 100);
}

/** The manual's rating: ★★★★☆ for 4 stars out of 5. */
export function starText(stars: number): string {
  const n = Math.max(0, Math.min(5, Math.round(stars)));
  return '★'.repeat(n) + '☆'.repeat(5 - n);
}

export function partLabel(part: string): string {
  switch (part) {
    case 'text':
      return tx('partText');
    case 'html':
      return tx('partHtml');
    case 'sms':
      return tx('partSms');
    case 'line':
      return tx('partLine');
    default:
      return part;
  }
}

export const RUN_LISTS = [
  'sent',
  'unsent',
  'openers',
  'clickers',
  'unopened',
  'url-clickers',
  'segment',
] as const;
export type RunListName = (typeof RUN_LISTS)[number];

export function listTitle(list: RunListName): string {
  switch (list) {
    case 'sent':
      return tx('listSent');
    case 'unsent':
      return tx('listUnsent');
    case 'openers':
      return tx('listOpeners');
    case 'clickers':
      return tx('listClickers');
    case 'unopened':
      return tx('listUnopened');
    case 'url-clickers':
      return tx('listUrlClickers');
    case 'segment':
      return tx('listSegment');
  }
}

/** The console path of the run detail showing one of its lists (a shareable link). */
export function listPath(
  channel: string,
  id: number,
  list: RunListName,
  extra: Record<string, string> = {},
): string {
  const q = new URLSearchParams({ list, ...extra });
  return `/runs/${encodeURIComponent(channel)}/${id}?${q.toString()}`;
}

/** The console path of a lead's page (screen 4). */
export function leadPath(leadId: number): string {
  return `/leads/${leadId}`;
}
