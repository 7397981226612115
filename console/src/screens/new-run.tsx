// 新規送信 (issue 20, screen 3): choose the channel, a template and a segment
// (with the count of live leads it selects now, GET /v1/segments/:id/preview),
// the options POST /v1/wizard-runs accepts for that channel, immediate or
// scheduled (a date-time in the account's zone, sent as ISO 8601 with its
// offset), reserve, then the run's detail page.
import { useState } from 'preact/hooks';
import { api, errorMessage } from '../api';
import type { paths } from '../api-types';
import { accountTimeZone, formatNumber, screenMessages, t } from '../i18n';
import type { ScreenProps } from '../routes';
import { navigate } from '../router';
import { can } from '../session';
import { ErrorBanner, Loading, must, Page, useLoad } from '../ui';
import { CHANNELS, type ChannelName } from './run-history';
import { isoToZonedLocal, zonedLocalToIso } from '../zoned-time';
import { loadAccountZone } from '../labels';

type CreateBody = paths['/v1/wizard-runs']['post']['requestBody']['content']['application/json'];

const tx = screenMessages({
  ja: {
    title: '新規送信',
    channel: 'チャネル',
    template: 'テンプレート',
    segment: '送信対象者の検索条件',
    choose: '選択してください',
    noTemplates: 'このチャネルのテンプレートがありません。',
    noSegments: 'このチャネルの検索条件がありません。',
    leadCount: '現在この検索条件にヒットするリード: {n}件',
    options: 'オプション',
    includeAlreadySent: '送信済の人も含めて送信する',
    permissionFilterEmail: 'DM許可のあるリードのみに送信する',
    permissionFilterSms: 'SMS送信許可のあるリードのみに送信する',
    allowLongSms: '長文(71文字以上)の送信を許可する',
    phoneField: '送信先電話番号として使用する項目（空欄: 携帯電話番号）',
    statusMail: 'ステータスメール送付先',
    timing: '送信タイミング',
    immediate: '即時送信',
    scheduled: '予約送信',
    scheduledAt: '送信予約日時（{zone}）',
    remindMail: 'リマインドメール送信先アドレス',
    remindBefore: 'リマインドメール送信（開始の何分前）',
    reserve: '送信予約する',
    reserving: '予約しています…',
    needScheduledAt: '送信予約日時を入力してください',
    noWrite: '送信を予約する権限がありません。',
  },
  en: {
    title: 'New send',
    channel: 'Channel',
    template: 'Template',
    segment: 'Target segment',
    choose: 'Choose',
    noTemplates: 'No template for this channel.',
    noSegments: 'No segment for this channel.',
    leadCount: 'Leads this segment selects now: {n}',
    options: 'Options',
    includeAlreadySent: 'Include leads already sent to',
    permissionFilterEmail: 'Only leads with DM permission',
    permissionFilterSms: 'Only leads with SMS permission',
    allowLongSms: 'Allow long SMS (71 characters or more)',
    phoneField: 'Field holding the phone number (blank: mobile)',
    statusMail: 'Status mail to',
    timing: 'When',
    immediate: 'Now',
    scheduled: 'Scheduled',
    scheduledAt: 'Scheduled at ({zone})',
    remindMail: 'Reminder mail to',
    remindBefore: 'Reminder (minutes before the start)',
    reserve: 'Reserve',
    reserving: 'Reserving…',
    needScheduledAt: 'Enter the scheduled date and time',
    noWrite: 'You may not reserve sends.',
  },
});

const channelText = (c: ChannelName) =>
  t(c === 'email' ? 'channelEmail' : c === 'sms' ? 'channelSms' : 'channelLine');

export function NewRunScreen(props: ScreenProps) {
  const zoneLoad = useLoad(loadAccountZone, []);
  const zone = zoneLoad.data ?? accountTimeZone();
  const [channel, setChannel] = useState<ChannelName>('email');
  const [templateId, setTemplateId] = useState('');
  const [segmentId, setSegmentId] = useState('');
  const [includeAlreadySent, setIncludeAlreadySent] = useState(false);
  const [permissionFilter, setPermissionFilter] = useState(false);
  const [allowLongSms, setAllowLongSms] = useState(false);
  const [phoneField, setPhoneField] = useState('');
  const [statusMail, setStatusMail] = useState('');
  const [timing, setTiming] = useState<'immediate' | 'scheduled'>('immediate');
  // Empty until typed: the default (an hour from now) is drawn in the account's zone once it is known.
  const [scheduledTyped, setScheduledLocal] = useState<string | null>(null);
  const scheduledLocal = scheduledTyped ?? isoToZonedLocal(new Date(Date.now() + 60 * 60_000), zone);
  const [remindMail, setRemindMail] = useState('');
  const [remindBefore, setRemindBefore] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const choices = useLoad(async () => {
    const [templates, segments] = await Promise.all([
      api.GET('/v1/templates', { params: { query: { channel: [channel], limit: 500 } } }),
      api.GET('/v1/segments', { params: { query: { channel: [channel], limit: 500 } } }),
    ]);
    return { templates: must(templates).items, segments: must(segments).items };
  }, [channel]);

  const preview = useLoad(async () => {
    if (!segmentId) return null;
    return must(await api.GET('/v1/segments/{id}/preview', { params: { path: { id: Number(segmentId) } } }))
      .count;
  }, [segmentId]);

  if (!can(props.user, 'write'))
    return (
      <Page title={tx('title')}>
        <p>{tx('noWrite')}</p>
      </Page>
    );

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    const body: CreateBody = { templateId: Number(templateId), segmentId: Number(segmentId) };
    if (includeAlreadySent) body.includeAlreadySent = true;
    if (channel !== 'line' && permissionFilter) body.permissionFilter = true;
    if (channel === 'sms') {
      if (allowLongSms) body.allowLongSms = true;
      if (phoneField.trim()) body.phoneField = phoneField.trim();
    }
    if (statusMail.trim()) body.statusMail = statusMail.trim();
    if (timing === 'scheduled') {
      const iso = zonedLocalToIso(scheduledLocal, zone);
      if (!iso) {
        setError(tx('needScheduledAt'));
        return;
      }
      body.scheduledAt = iso;
      if (remindMail.trim()) body.remindMail = remindMail.trim();
      if (remindBefore) body.remindBeforeMinutes = Number(remindBefore);
    }
    setBusy(true);
    const answer = await api.POST('/v1/wizard-runs', { body });
    setBusy(false);
    if (!answer.response.ok || !answer.data) {
      setError(errorMessage(answer.error, `HTTP ${answer.response.status}`));
      return;
    }
    navigate(`/runs/${channel}/${answer.data.id}`);
  };

  const templates = choices.data?.templates ?? [];
  const segments = choices.data?.segments ?? [];
  return (
    <Page title={tx('title')}>
      <form class="new-run" onSubmit={submit}>
        <ErrorBanner message={error ?? choices.error ?? zoneLoad.error} />
        <div class="form-grid">
          <div class="field">
            <label for="new-run-channel">{tx('channel')}</label>
            <select
              id="new-run-channel"
              name="channel"
              value={channel}
              onChange={(e) => {
                setChannel(e.currentTarget.value as ChannelName);
                setTemplateId('');
                setSegmentId('');
              }}
            >
              {CHANNELS.map((c) => (
                <option key={c} value={c}>
                  {channelText(c)}
                </option>
              ))}
            </select>
          </div>
        </div>
        <Loading loading={choices.loading && !choices.data} />
        <div class="form-grid">
          <div class="field">
            <label for="new-run-template">{tx('template')}</label>
            <select
              id="new-run-template"
              name="templateId"
              required
              value={templateId}
              onChange={(e) => setTemplateId(e.currentTarget.value)}
            >
              <option value="">{tx('choose')}</option>
              {templates.map((tpl) => (
                <option key={tpl.id} value={String(tpl.id)}>
                  {tpl.title} (ID {tpl.id})
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="new-run-segment">{tx('segment')}</label>
            <select
              id="new-run-segment"
              name="segmentId"
              required
              value={segmentId}
              onChange={(e) => setSegmentId(e.currentTarget.value)}
            >
              <option value="">{tx('choose')}</option>
              {segments.map((s) => (
                <option key={s.id} value={String(s.id)}>
                  {s.name} (ID {s.id})
                </option>
              ))}
            </select>
          </div>
          <p class="lead-count" role="status" aria-live="polite">
            {segmentId && preview.data !== null && !preview.loading
              ? tx('leadCount', { n: formatNumber(preview.data) })
              : ''}
          </p>
        </div>
        {choices.data && templates.length === 0 ? <p>{tx('noTemplates')}</p> : null}
        {choices.data && segments.length === 0 ? <p>{tx('noSegments')}</p> : null}
        <ErrorBanner message={preview.error} />
        <fieldset class="new-run-options">
          <legend>{tx('options')}</legend>
          <label>
            <input
              type="checkbox"
              name="includeAlreadySent"
              checked={includeAlreadySent}
              onChange={(e) => setIncludeAlreadySent(e.currentTarget.checked)}
            />
            {tx('includeAlreadySent')}
          </label>
          {channel !== 'line' ? (
            <label>
              <input
                type="checkbox"
                name="permissionFilter"
                checked={permissionFilter}
                onChange={(e) => setPermissionFilter(e.currentTarget.checked)}
              />
              {channel === 'email' ? tx('permissionFilterEmail') : tx('permissionFilterSms')}
            </label>
          ) : null}
          {channel === 'sms' ? (
            <label>
              <input
                type="checkbox"
                name="allowLongSms"
                checked={allowLongSms}
                onChange={(e) => setAllowLongSms(e.currentTarget.checked)}
              />
              {tx('allowLongSms')}
            </label>
          ) : null}
        </fieldset>
        <div class="form-grid">
          {channel === 'sms' ? (
            <label>
              {tx('phoneField')}
              <input
                name="phoneField"
                pattern="[a-z][a-z0-9_]{0,31}"
                value={phoneField}
                onInput={(e) => setPhoneField(e.currentTarget.value)}
              />
            </label>
          ) : null}
          <label>
            {tx('statusMail')}
            <input
              name="statusMail"
              type="email"
              maxLength={254}
              value={statusMail}
              onInput={(e) => setStatusMail(e.currentTarget.value)}
            />
          </label>
        </div>
        <fieldset class="new-run-timing">
          <legend>{tx('timing')}</legend>
          <label>
            <input
              type="radio"
              name="timing"
              value="immediate"
              checked={timing === 'immediate'}
              onChange={() => setTiming('immediate')}
            />
            {tx('immediate')}
          </label>
          <label>
            <input
              type="radio"
              name="timing"
              value="scheduled"
              checked={timing === 'scheduled'}
              onChange={() => setTiming('scheduled')}
            />
            {tx('scheduled')}
          </label>
        </fieldset>
        {timing === 'scheduled' ? (
          <div class="form-grid">
            <label>
              {tx('scheduledAt', { zone })}
              <input
                name="scheduledAt"
                type="datetime-local"
                required
                value={scheduledLocal}
                onInput={(e) => setScheduledLocal(e.currentTarget.value)}
              />
            </label>
            <label>
              {tx('remindMail')}
              <input
                name="remindMail"
                type="email"
                maxLength={254}
                value={remindMail}
                onInput={(e) => setRemindMail(e.currentTarget.value)}
              />
            </label>
            <label>
              {tx('remindBefore')}
              <input
                name="remindBeforeMinutes"
                type="number"
                min={1}
                max={10080}
                value={remindBefore}
                onInput={(e) => setRemindBefore(e.currentTarget.value)}
              />
            </label>
          </div>
        ) : null}
        <button type="submit" disabled={busy || !zoneLoad.data}>
          {busy ? tx('reserving') : tx('reserve')}
        </button>
      </form>
    </Page>
  );
}
