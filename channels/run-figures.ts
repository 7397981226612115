// A run's figures from its row, the one way (issue 18, "figures that agree"):
// the run, the run list, /figures and the end-of-run mail all call this, and
// domain/figures' runFigures does the arithmetic. What the channel allows to
// measure (opens of text mail, LINE deliveries, SMS parts) comes from the
// channel's module and the template as it was at reservation.
import type { RunRow } from '../db/run-queries';
import type { TemplateRow } from '../db/template-queries';
import { runFigures, type RunFigureFacts, type RunFigureView } from '../domain/figures';
import { isChannel } from '../domain/channels';
import { CHANNEL_MODULES } from './registry';

/** The template fields the figures read, from the run's snapshot (the template as it was at reservation). */
function snapshotTemplate(run: RunRow): TemplateRow | null {
  const s = run.template_snapshot;
  if (!s) return null;
  return {
    email_format: typeof s.emailFormat === 'string' ? s.emailFormat : null,
    open_tracking: s.openTracking !== false,
  } as TemplateRow;
}

/**
 * Why opens of this run cannot be measured; null when they can. A run stored
 * without a snapshot (written by hand) is judged by `current`, the template now.
 */
export function runOpensNotMeasurable(run: RunRow, current?: TemplateRow | null): string | null {
  const module = isChannel(run.channel) ? CHANNEL_MODULES[run.channel] : undefined;
  if (!module?.opensUnmeasurable) return `not measurable: ${run.channel} messages carry no tracking image`;
  return module.opensUnmeasurable(snapshotTemplate(run) ?? current ?? null);
}

/** The facts of a run's figures from its counters; `override` replaces counts (the human-only view). */
export function runFigureFacts(
  run: RunRow,
  override: Partial<RunFigureFacts> = {},
  current?: TemplateRow | null,
): RunFigureFacts {
  return {
    channel: run.channel,
    opensNotMeasurable: runOpensNotMeasurable(run, current),
    sentMessages: run.sent_count,
    sentParts: run.sms_parts_count,
    delivered: run.delivered_count,
    errors: run.error_count,
    openers: run.opener_count,
    clickers: run.clicker_count,
    totalClicks: run.click_count,
    unsubscribes: run.unsubscribe_count,
    ...override,
  };
}

export function figuresOfRun(
  run: RunRow,
  override: Partial<RunFigureFacts> = {},
  current?: TemplateRow | null,
): RunFigureView {
  return runFigures(runFigureFacts(run, override, current));
}
