// The notices the system mails to people — a run's status mail at start and
// end (with its figures), the reminder before a scheduled start (リマインドメール)
// and the failure notices of runs and single sends — in the account's
// language (DEFAULT_LANGUAGE) with times in its time zone (ACCOUNT_TIME_ZONE).
// Pure: the activities hand in plain facts and mail what comes back.
import { labelsFor } from './index';
import type { Language } from './texts';
import { zoneOffsetMinutes } from './time';

/** Whose notices these are: the account's language and time zone. */
export interface NoticeLocale {
  language: Language;
  timeZone: string;
}

export interface Notice {
  subject: string;
  text: string;
}

/** What a notice says about a run (a wizard_run row has all of it). */
export interface NoticeRun {
  id: number;
  channel: string;
  template_title: string;
  status: string;
  target_kind: string;
  segment_id: number | null;
  segment_name: string | null;
  lead_ids: number[] | null;
  scheduled_at: Date | null;
  started_at: Date | null;
  completed_at: Date | null;
  target_count: number;
  excluded_count: number;
  sent_count: number;
  delivered_count: number;
  error_count: number;
  pre_error_count: number;
}

/** The figures the end mail shows (domain/figures RunFigureView). */
export interface NoticeFigures {
  sent: number;
  sentUnit: 'messages' | 'parts';
  deliveryMeasurable: boolean;
  deliveryRate: number | null;
  opensMeasurable: boolean;
  openRate: number | null;
  opensNotMeasurableReason: string | null;
  clickRate: number | null;
  unsubscribeRate: number | null;
}

export interface NoticeFailure {
  address: string;
  code: number | null;
  detail: string | null;
  lead_id: number;
}

/**
 * A time as people read it in the account's zone: 2026-12-04 19:00:00 JST
 * (ja) / 2026-12-04 19:00:00 GMT+9 (en) — the zone's short name in the
 * language, and the numeric offset where the language has no name for it.
 */
export function noticeTime(at: Date | null, locale: NoticeLocale): string {
  if (!at) return '-';
  const fmt = new Intl.DateTimeFormat(locale.language === 'ja' ? 'ja-JP' : 'en-US', {
    timeZone: locale.timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    timeZoneName: 'short',
  });
  const p = Object.fromEntries(fmt.formatToParts(at).map((x) => [x.type, x.value]));
  let zone = p.timeZoneName;
  if (!zone) {
    const off = zoneOffsetMinutes(at, locale.timeZone);
    const abs = Math.abs(off);
    zone = `UTC${off < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  }
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second} ${zone}`;
}

const OPENS_NOT_MEASURABLE_JA: ReadonlyArray<[RegExp, string]> = [
  [/text mail/, 'テキストメールには開封計測用の画像が入らないため計測できません'],
  [/open tracking was off/, 'テンプレートの開封計測がオフのため計測できません'],
  [
    /(\w+) messages carry no tracking image/,
    '$1 のメッセージには開封計測用の画像が入らないため計測できません',
  ],
];

function opensReason(reason: string | null, lang: Language): string {
  if (lang === 'en') return reason ?? 'not measurable';
  for (const [re, ja] of OPENS_NOT_MEASURABLE_JA) {
    const m = re.exec(reason ?? '');
    if (m) return ja.replace('$1', m[1] ?? '');
  }
  return '計測できません';
}

function rate(r: number | null, lang: Language): string {
  if (r !== null) return `${r} %`;
  return lang === 'ja' ? '計測できません(分母が0)' : 'not measurable (nothing to divide by)';
}

function runName(run: NoticeRun, lang: Language): string {
  return lang === 'ja' ? `ウィザード実行 ${run.id}` : `wizard run ${run.id}`;
}

function target(run: NoticeRun, lang: Language): string {
  if (run.target_kind === 'segment')
    return lang === 'ja'
      ? `セグメント ${run.segment_id}「${run.segment_name ?? ''}」`
      : `segment ${run.segment_id} "${run.segment_name ?? ''}"`;
  const n = run.lead_ids?.length ?? 0;
  return lang === 'ja' ? `リード ${n} 件の指定` : `${n} leads`;
}

export function reminderNotice(run: NoticeRun, locale: NoticeLocale): Notice {
  const { language: lang } = locale;
  const at = noticeTime(run.scheduled_at, locale);
  const cancel = `DELETE /v1/wizard-runs/${run.id}`;
  if (lang === 'ja')
    return {
      subject: `【リマインド】${runName(run, lang)} は ${at} に送信を開始します: ${run.template_title}`,
      text: [
        `${runName(run, lang)}(${labelsFor(lang).channel(run.channel) ?? run.channel}、テンプレート「${run.template_title}」)は送信予約中で、${at} に送信を開始します。`,
        `対象: ${target(run, lang)}`,
        `送信を取りやめる場合は、開始前にキャンセルしてください(${cancel})。`,
      ].join('\n'),
    };
  return {
    subject: `Reminder: ${runName(run, lang)} starts at ${at}: ${run.template_title}`,
    text: [
      `Wizard run ${run.id} (${run.channel}, template "${run.template_title}") is reserved and starts sending at ${at}.`,
      `Target: ${target(run, lang)}.`,
      `Cancel it before then (${cancel}) if it should not go out.`,
    ].join('\n'),
  };
}

export function runStartNotice(run: NoticeRun, locale: NoticeLocale): Notice {
  const { language: lang } = locale;
  const at = noticeTime(run.started_at, locale);
  if (lang === 'ja')
    return {
      subject: `【送信開始】${runName(run, lang)}: ${run.template_title}`,
      text: [
        `${runName(run, lang)}(${labelsFor(lang).channel(run.channel) ?? run.channel}、テンプレート「${run.template_title}」)の送信を開始しました。`,
        `開始日時: ${at}`,
        `送信対象: ${run.target_count} 件、準備時に除外: ${run.excluded_count} 件`,
      ].join('\n'),
    };
  return {
    subject: `Wizard run ${run.id} started: ${run.template_title}`,
    text: [
      `Wizard run ${run.id} (${run.channel}, template "${run.template_title}") started sending.`,
      `Started at: ${at}`,
      `Targets: ${run.target_count}, excluded at preparation: ${run.excluded_count}.`,
    ].join('\n'),
  };
}

export function runEndNotice(
  run: NoticeRun,
  figures: NoticeFigures | undefined,
  locale: NoticeLocale,
): Notice {
  const { language: lang } = locale;
  const t = labelsFor(lang);
  const status = t.runStatus(run.status) ?? run.status;
  if (lang === 'ja') {
    return {
      subject: `【${status}】${runName(run, lang)}: ${run.template_title}`,
      text: [
        `${runName(run, lang)}(${t.channel(run.channel) ?? run.channel}、テンプレート「${run.template_title}」)は「${status}」になりました。`,
        `開始日時: ${noticeTime(run.started_at, locale)}`,
        `完了日時: ${noticeTime(run.completed_at, locale)}`,
        `送信対象: ${run.target_count}`,
        `準備時に除外: ${run.excluded_count}`,
        `送信数: ${run.sent_count}`,
        `到達数: ${run.delivered_count}`,
        `エラー数: ${run.error_count}`,
        `事前エラー数: ${run.pre_error_count}`,
        ...(figures
          ? [
              `送信数(${figures.sentUnit === 'parts' ? '分割後の通数' : '通数'}): ${figures.sent}`,
              `到達率: ${figures.deliveryMeasurable ? rate(figures.deliveryRate, lang) : '計測できません(このチャネルは到達を通知しません)'}`,
              `開封率: ${figures.opensMeasurable ? rate(figures.openRate, lang) : opensReason(figures.opensNotMeasurableReason, lang)}`,
              `クリック率: ${rate(figures.clickRate, lang)}`,
              `配信停止率: ${rate(figures.unsubscribeRate, lang)}`,
            ]
          : []),
        '配信エラーは完了後にも届くことがあります。',
      ].join('\n'),
    };
  }
  return {
    subject: `Wizard run ${run.id} ${status}: ${run.template_title}`,
    text: [
      `Wizard run ${run.id} (${run.channel}, template "${run.template_title}") is ${status}.`,
      `Started at: ${noticeTime(run.started_at, locale)}`,
      `Completed at: ${noticeTime(run.completed_at, locale)}`,
      `Targets: ${run.target_count}`,
      `Excluded at preparation: ${run.excluded_count}`,
      `Sent: ${run.sent_count}`,
      `Delivered: ${run.delivered_count}`,
      `Delivery errors: ${run.error_count}`,
      `Pre-errors: ${run.pre_error_count}`,
      ...(figures
        ? [
            `Sent (${figures.sentUnit}): ${figures.sent}`,
            `Delivery rate: ${figures.deliveryMeasurable ? rate(figures.deliveryRate, lang) : 'not measurable (the channel never confirms delivery)'}`,
            `Open rate: ${figures.opensMeasurable ? rate(figures.openRate, lang) : opensReason(figures.opensNotMeasurableReason, lang)}`,
            `Click rate: ${rate(figures.clickRate, lang)}`,
            `Unsubscribe rate: ${rate(figures.unsubscribeRate, lang)}`,
          ]
        : []),
      'Delivery errors may still arrive after completion.',
    ].join('\n'),
  };
}

function failureLine(f: NoticeFailure, lang: Language): string {
  const t = labelsFor(lang);
  const meaning = t.codeMeaning(f.code);
  const detail = t.detail(f.detail) ?? '';
  const lead = lang === 'ja' ? `リード ${f.lead_id}` : `lead ${f.lead_id}`;
  return `${f.address} (${lead}): ${f.code ?? ''} ${detail}${meaning ? ` [${meaning}]` : ''}`.trimEnd();
}

/**
 * The failures of a run, to the template's error address. `kind` 'bounces':
 * bounces reported after delivery (asynchronous reports).
 */
export function runFailureNotice(
  run: NoticeRun,
  failed: NoticeFailure[],
  locale: NoticeLocale,
  kind: 'failures' | 'bounces' = 'failures',
): Notice {
  const { language: lang } = locale;
  const total = kind === 'failures' ? Math.max(run.error_count, failed.length) : failed.length;
  const rest = total - failed.length;
  const lines = failed.map((f) => failureLine(f, lang)).join('\n');
  if (lang === 'ja') {
    const head =
      kind === 'bounces'
        ? `${runName(run, lang)} の到達後に ${failed.length} 件のバウンスが報告されました:`
        : `${runName(run, lang)} の ${total} 件のメッセージが配信できませんでした:`;
    return {
      subject: `【${kind === 'bounces' ? '到達後のバウンス' : '配信エラー'}】${runName(run, lang)}: ${run.template_title}`,
      text:
        `${head}\n開始日時: ${noticeTime(run.started_at, locale)}\n\n${lines}` +
        (rest > 0 ? `\n…ほか ${rest} 件(実行の送信履歴を参照してください)` : ''),
    };
  }
  const head =
    kind === 'bounces'
      ? `${failed.length} bounce(s) were reported after delivery in wizard run ${run.id}:`
      : `${total} message(s) of wizard run ${run.id} could not be delivered:`;
  return {
    subject: `${kind === 'bounces' ? 'Bounces after delivery' : 'Delivery failures'} in wizard run ${run.id}: ${run.template_title}`,
    text:
      `${head}\nStarted at: ${noticeTime(run.started_at, locale)}\n\n${lines}` +
      (rest > 0 ? `\n… and ${rest} more (see the run's sent list).` : ''),
  };
}

export function singleSendFailureNotice(
  send: NoticeFailure & { id: string; channel: string; at: Date | null },
  templateTitle: string,
  locale: NoticeLocale,
): Notice {
  const { language: lang } = locale;
  const line = failureLine(send, lang);
  const at = noticeTime(send.at, locale);
  if (lang === 'ja')
    return {
      subject: `【配信エラー】単発送信 ${send.id}: ${templateTitle}`,
      text:
        `${labelsFor(lang).channel(send.channel) ?? send.channel} の単発送信 ${send.id}(テンプレート「${templateTitle}」)は配信できませんでした。\n` +
        `送信日時: ${at}\n\n${line}`,
    };
  return {
    subject: `Delivery failure of single send ${send.id}: ${templateTitle}`,
    text:
      `The single ${send.channel} send ${send.id} (template "${templateTitle}") could not be delivered.\n` +
      `Sent at: ${at}\n\n${line}`,
  };
}
