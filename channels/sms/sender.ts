// The SMS channel (SPEC §6): targets from the run's phone field, pre-errors
// decided before anything goes out (mobile number, body length, short URLs),
// submits through the SMPP transport, receipts applied later by
// inbound/sms-receipts.ts. Outcomes: domain/smpp-status.ts, recorded by db/outcomes.ts.
//
// Decisions:
// - A submit the SMSC refused for now (throttled, queue full, no bind, no
//   answer) is tried again in the activity a few times with a short backoff;
//   one still refused after that makes the activity fail retryably once every
//   other outcome of the batch is recorded. Temporal's retry then reclaims only
//   the unrecorded sends (claimTargetBatch / claimRetryBatch reclaim). No retry
//   wave: an SMS run has no wave schedule, and throttling is a matter of seconds.
// - The body is checked as it goes out, short URLs in place: that is what the
//   handset gets and what the 70 / 660 character rules are about.
// - A whitespace-only body is a pre-error ("the message body is empty"); a
//   body of only emoji is a real UCS-2 message and is sent.
// - Single sends have no run options: long messages are allowed (up to the
//   660 character maximum) and the SMS permission flag is not consulted,
//   as a single email ignores the validity flag.
// - Validity flags (SPEC 4) are email's; SMS errors do not change them. They
//   move the number's address status instead (issue 18): errors count and
//   quarantine it at QUARANTINE_AFTER_ERRORS, a hard unknown subscriber or
//   closed account at once; a receipt's delivery clears it.
import { ApplicationFailure, Context } from '@temporalio/activity';
import { getCountryCallingCode, type CountryCode } from 'libphonenumber-js/max';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { SmsSubmitResult, SmsTransport } from './transport';
import { getRun, handBackClaims, type ClaimedSend } from '../../db/run-queries';
import { DEFAULT_PHONE_FIELD, prepareSmsTargets } from '../../db/sms-queries';
import type { OutcomeRecord, RecordingRules } from '../../db/outcomes';
import { preErrorOutcome } from '../../domain/delivery-outcome';
import { submitDeliveryOutcome } from '../../domain/smpp-status';
import type { TemplateRow } from '../../db/template-queries';
import { ensureTrackingTokens, tokenKey, type WantedToken } from '../../db/tracking-queries';
import { ownTrackingPrefixes, rewriteTextLinks } from '../../domain/link-rewrite';
import { personalize } from '../../domain/personalize';
import { checkMobileNumber } from '../../domain/phone';
import {
  checkSmsBody,
  segmentCount,
  SMS_PRE_ERROR_DETAIL,
  type SmsPreError,
} from '../../domain/sms-segments';
import { ZERO, chunkedRecording, outcomeRecord } from '../sender';
import type { BatchCounts, ChannelModule, ChannelSender, SendContext } from '../sender';

/** Where short URLs live: `${publicBaseUrl}${SHORT_LINK_PATH}<code>`. */
export const SHORT_LINK_PATH = '/s/';

export interface SmsSenderDeps {
  pool: Pool;
  sms: SmsTransport;
  logger: Logger;
  settings: {
    publicBaseUrl: string;
    smsSender: string;
    smsDefaultRegion: string;
    /** Messages being submitted at once per batch; the transport's window bounds the wire. */
    sendConcurrency: number;
    /** Waits between in-activity tries of a submit the SMSC refused for now. Default [1000, 2000]. */
    retryDelaysMs?: readonly number[];
    /** Errors that quarantine a number (QUARANTINE_AFTER_ERRORS); default the campaign manual's 5. */
    quarantineAfterErrors?: number;
  };
}

export function createSmsSender(deps: SmsSenderDeps): ChannelSender {
  const { pool, sms, logger, settings } = deps;
  const region = settings.smsDefaultRegion.toUpperCase();
  const countryCallingCode = getCountryCallingCode(region as CountryCode);
  /** A submitted message is 'sent' until its receipt; SMS errors never touch email validity, only the number's status. */
  const RECORDING: RecordingRules = {
    acceptedAs: 'sent',
    validity: null,
    phoneStatus: { countryCallingCode, quarantineAfterErrors: settings.quarantineAfterErrors },
    pendingOnly: false,
    stampPreErrors: false,
    awaitsReceipt: true,
  };
  const retryDelays = settings.retryDelaysMs ?? [1000, 2000];
  const shortPrefix = settings.publicBaseUrl + SHORT_LINK_PATH;

  /** Short URLs for every link of every body, in one statement; null when they could not be made. */
  async function shortUrls(bodies: ReadonlyMap<string, string>): Promise<Map<string, string> | null> {
    const wanted: WantedToken[] = [];
    for (const [sendId, body] of bodies) {
      rewriteTextLinks(
        body,
        (url) => {
          wanted.push({ sendId, part: 'sms', url });
          return undefined;
        },
        { keepPrefixes: [...ownTrackingPrefixes(settings.publicBaseUrl), shortPrefix] },
      );
    }
    try {
      return await ensureTrackingTokens(pool, wanted);
    } catch (err) {
      logger.error({ err }, 'short URLs could not be created');
      return null;
    }
  }

  /** Submit, trying again in place while the SMSC refuses for now. */
  async function submitWithRetry(to: string, text: string, referenceId: string): Promise<SmsSubmitResult> {
    let res = await sms.submit({ to, from: settings.smsSender, text, referenceId });
    for (const delay of retryDelays) {
      if (res.outcome !== 'retryable') break;
      await new Promise((r) => setTimeout(r, delay));
      res = await sms.submit({ to, from: settings.smsSender, text, referenceId });
    }
    return res;
  }

  async function deliverClaimed(
    runId: number | null,
    template: TemplateRow,
    allowLong: boolean,
    claimed: readonly ClaimedSend[],
  ): Promise<BatchCounts> {
    const ctx = Context.current();
    const total: BatchCounts = { ...ZERO, claimed: claimed.length };
    const bodies = new Map(
      claimed.map((c) => [
        c.send_id,
        personalize(template.sms_body ?? '', { id: c.lead_id, name: c.name, attributes: c.attributes }),
      ]),
    );
    const tokens = template.click_tracking ? await shortUrls(bodies) : new Map<string, string>();

    const recording = chunkedRecording(pool, runId, RECORDING, total);
    const preError = (target: ClaimedSend, reason: SmsPreError, body: string | null): OutcomeRecord =>
      outcomeRecord(target, preErrorOutcome(SMS_PRE_ERROR_DETAIL[reason]), null, {
        body,
        segments: null,
        partIds: [],
      });

    const stillRefused: ClaimedSend[] = [];
    let next = 0;
    const worker = async () => {
      while (next < claimed.length && !ctx.cancellationSignal.aborted) {
        const target = claimed[next++]!;
        const record = await deliverOne(target);
        if (record) await recording.add(record);
        else stillRefused.push(target);
      }
    };

    const deliverOne = async (target: ClaimedSend): Promise<OutcomeRecord | null> => {
      const number = checkMobileNumber(target.address, region);
      if (!number.ok) return preError(target, 'not_mobile', null);
      let text = bodies.get(target.send_id) ?? '';
      if (template.click_tracking) {
        if (!tokens) return preError(target, 'short_url_failed', null);
        let missing = false;
        text = rewriteTextLinks(
          text,
          (url) => {
            const token = tokens.get(tokenKey(target.send_id, 'sms', url));
            if (!token) missing = true;
            return token ? shortPrefix + token : undefined;
          },
          { keepPrefixes: [...ownTrackingPrefixes(settings.publicBaseUrl), shortPrefix] },
        );
        // Never a silent send with the original URL.
        if (missing) return preError(target, 'short_url_failed', null);
      }
      const bodyError = checkSmsBody(text, allowLong);
      if (bodyError) return preError(target, bodyError, text);

      const res = await submitWithRetry(number.smppAddress, text, target.send_id);
      if (res.outcome === 'retryable') {
        logger.warn(
          { sendId: target.send_id, reason: res.reason },
          'sms submit still refused for now; the activity will retry it',
        );
        return null;
      }
      const partIds = res.parts.flatMap((p, i) =>
        p.messageId !== null ? [{ seq: i + 1, messageId: p.messageId }] : [],
      );
      if (res.outcome !== 'submitted')
        logger.info(
          { sendId: target.send_id, outcome: res.outcome, reason: res.reason },
          'sms not submitted',
        );
      return outcomeRecord(
        target,
        submitDeliveryOutcome(res.outcome, res.detail),
        partIds[0]?.messageId ?? null,
        {
          body: text,
          segments: segmentCount(text),
          partIds,
        },
      );
    };

    await Promise.all(Array.from({ length: Math.max(1, settings.sendConcurrency) }, worker));
    await recording.flush();
    const unsent = [...stillRefused, ...claimed.slice(next)];
    if (ctx.cancellationSignal.aborted && next < claimed.length) {
      // Claims never sent go back to the state they were claimed from, a wave's due again (as email's).
      await handBackClaims(pool, claimed.slice(next));
    } else if (unsent.length > 0) {
      throw ApplicationFailure.retryable(
        `${unsent.length} SMS could not be submitted yet (SMSC throttling or unreachable); retrying`,
        'SmsSubmitRetryable',
      );
    }
    return total;
  }

  async function deliver(ctx: SendContext, claimed: ClaimedSend[]): Promise<BatchCounts> {
    if (claimed.length === 0) return { ...ZERO };
    const run = await getRun(pool, ctx.runId);
    return deliverClaimed(ctx.runId, ctx.template, run?.allow_long_sms ?? false, claimed);
  }

  /** Single sends have no run options: long messages are allowed. */
  const sendSingle = async (claimed: ClaimedSend, template: TemplateRow): Promise<void> => {
    await deliverClaimed(null, template, true, [claimed]);
  };

  return {
    prepare: (runId) => prepareSmsTargets(pool, runId, countryCallingCode, settings.quarantineAfterErrors),
    deliver,
    sendSingle,
  };
}

export const smsChannel: ChannelModule = {
  name: 'sms',
  label: 'SMS',
  checkTemplate: (t) =>
    t.smsBody ? null : { field: 'body.smsBody', message: 'an SMS template needs a body' },
  // A single SMS goes to the lead's mobile phone field; a missing one is the pre-error "not a mobile phone number".
  singleSendAddress: (lead) => lead.phones[DEFAULT_PHONE_FIELD] ?? '',
  // SPEC §6: "sent" counts the parts the SMSC accepted (messages after splitting); progress stays per message.
  sentFigure: (run) => run.sms_parts_count,
  unavailable:
    'no SMS transport is configured on the workers (SMPP_URL is not set); set it and create the run again',
  createSender: ({ pool, logger, config, transports }) =>
    transports.sms
      ? createSmsSender({
          pool,
          sms: transports.sms,
          logger,
          settings: {
            publicBaseUrl: config.publicBaseUrl,
            smsSender: config.smsSender,
            smsDefaultRegion: config.smsDefaultRegion,
            sendConcurrency: config.workerMaxConcurrentActivities * 2,
            quarantineAfterErrors: config.quarantineAfterErrors,
          },
        })
      : null,
};
