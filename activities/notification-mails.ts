// Texts of the status mails (SPEC 2), the reminder before a scheduled start,
// and the batched failure notices (SPEC 4) of runs and single sends.
import type { RunRow } from '../db/run-queries';
import type { TemplateRow } from '../db/template-queries';
import type { RunFigureView } from '../domain/figures';

/** Where a template's failures are told: an SMS template's error notification address, else its error reply-to. */
export function errorNoticeAddress(template: TemplateRow): string | null {
  if (template.channel === 'sms') return template.sms_error_address ?? template.error_reply_to ?? null;
  return template.error_reply_to ?? null;
}

const rate = (r: number | null, why = 'nothing to divide by') =>
  r === null ? `not measurable (${why})` : `${r} %`;

export function reminderMail(run: RunRow) {
  return {
    subject: `Reminder: wizard run ${run.id} starts at ${run.scheduled_at?.toISOString() ?? 'its time'}: ${run.template_title}`,
    text: [
      `Wizard run ${run.id} (${run.channel}, template "${run.template_title}") is reserved and starts sending at ${run.scheduled_at?.toISOString() ?? '(now)'}.`,
      `Target: ${run.target_kind === 'segment' ? `segment ${run.segment_id} "${run.segment_name ?? ''}"` : `${run.lead_ids?.length ?? 0} leads`}.`,
      'Cancel it before then (DELETE /v1/wizard-runs/' + String(run.id) + ') if it should not go out.',
    ].join('\n'),
  };
}

export function singleSendFailureNotice(
  send: {
    id: string;
    address: string;
    code: number | null;
    detail: string | null;
    lead_id: number;
    channel: string;
  },
  templateTitle: string,
) {
  return {
    subject: `Delivery failure of single send ${send.id}: ${templateTitle}`,
    text:
      `The single ${send.channel} send ${send.id} (template "${templateTitle}") could not be delivered:\n\n` +
      `${send.address} (lead ${send.lead_id}): ${send.code ?? ''} ${send.detail ?? ''}`,
  };
}

export function runStartMail(run: RunRow) {
  return {
    subject: `Wizard run ${run.id} started: ${run.template_title}`,
    text: [
      `Wizard run ${run.id} (${run.channel}, template "${run.template_title}") started sending.`,
      `Targets: ${run.target_count}, excluded at preparation: ${run.excluded_count}.`,
    ].join('\n'),
  };
}

export function runEndMail(run: RunRow, figures?: RunFigureView) {
  return {
    subject: `Wizard run ${run.id} ${run.status}: ${run.template_title}`,
    text: [
      `Wizard run ${run.id} (${run.channel}, template "${run.template_title}") is ${run.status}.`,
      `Targets: ${run.target_count}`,
      `Excluded at preparation: ${run.excluded_count}`,
      `Sent: ${run.sent_count}`,
      `Delivered: ${run.delivered_count}`,
      `Delivery errors: ${run.error_count}`,
      `Pre-errors: ${run.pre_error_count}`,
      ...(figures
        ? [
            `Sent (${figures.sentUnit}): ${figures.sent}`,
            `Delivery rate: ${figures.deliveryMeasurable ? rate(figures.deliveryRate) : 'not measurable (the channel never confirms delivery)'}`,
            `Open rate: ${figures.opensMeasurable ? rate(figures.openRate) : (figures.opensNotMeasurableReason ?? 'not measurable')}`,
            `Click rate: ${rate(figures.clickRate)}`,
            `Unsubscribe rate: ${rate(figures.unsubscribeRate)}`,
          ]
        : []),
    ].join('\n'),
  };
}

export function runFailureNotice(
  run: RunRow,
  failed: Array<{ address: string; code: number; detail: string; lead_id: number }>,
) {
  const more =
    run.error_count > failed.length
      ? `\n… and ${run.error_count - failed.length} more (see the run's sent list).`
      : '';
  return {
    subject: `Delivery failures in wizard run ${run.id}: ${run.template_title}`,
    text:
      `${run.error_count} message(s) of wizard run ${run.id} could not be delivered:\n\n` +
      failed.map((f) => `${f.address} (lead ${f.lead_id}): ${f.code} ${f.detail}`).join('\n') +
      more,
  };
}
