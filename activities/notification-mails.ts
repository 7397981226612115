// Texts of the status mails (SPEC 2) and the batched failure notice (SPEC 4).
import type { RunRow } from '../db/run-queries';

export function runStartMail(run: RunRow) {
  return {
    subject: `Wizard run ${run.id} started: ${run.template_title}`,
    text: [
      `Wizard run ${run.id} (${run.channel}, template "${run.template_title}") started sending.`,
      `Targets: ${run.target_count}, excluded at preparation: ${run.excluded_count}.`,
    ].join('\n'),
  };
}

export function runEndMail(run: RunRow) {
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
