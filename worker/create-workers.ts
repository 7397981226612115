// Builds the workers of one process: the wizard queue (workflows and their
// bookkeeping activities) and one queue per channel for sending, so send
// capacity scales and is rate-limited per channel independently.
import { NativeConnection, Worker, type WorkflowBundlePath } from '@temporalio/worker';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { createActivities } from '../activities/wizard-run-activities';
import { createCleanupActivities } from '../activities/cleanup-activities';
import { createRunSweepActivities } from '../activities/run-sweep-activities';
import { createImportActivities } from '../activities/import-activities';
import { getCountryCallingCode, type CountryCode } from 'libphonenumber-js/max';
import { ensureRunSweepSchedule } from '../lifecycle/run-sweep';
import { Client } from '@temporalio/client';
import type { EmailTransport } from '../channels/email/transport';
import { sendQueueFor, sendRateFor, type AppConfig } from '../config/config';
import type { SmsTransport } from '../channels/sms/transport';
import { createSenders } from '../channels/registry';
import { createNoticeMailer } from '../channels/email/notices';
import type { Channel } from '../domain/channels';
import { parseOptOutKeywords } from '../domain/sms-replies';
import { startSmsReceiptProcessing } from '../inbound/sms-receipts';
import { startSmsReplyProcessing } from '../inbound/sms-replies';
import { createDkimSigner } from '../channels/email/dkim';
import { createSenderAuthActivities, senderAuthSettings } from '../activities/sender-auth-activities';
import { ensureSendingDomainVerificationSchedule } from '../lifecycle/sending-domain-verification';
import { workflowBundlePath } from './workflow-bundle';

export interface WorkerDeps {
  connection: NativeConnection;
  namespace: string;
  pool: Pool;
  email: EmailTransport;
  logger: Logger;
  config: AppConfig;
  /** The SMPP transport; without it no SMS worker is started (its receipts: startSmsReceipts). */
  sms?: SmsTransport;
  /** The workflow bundle's file; by default the fresh one of worker/workflow-bundle.ts. */
  workflowBundle?: WorkflowBundlePath;
  /**
   * false: do not create the consistency sweep's Schedule (Temporal's
   * time-skipping test server has no Schedules). Production always creates it.
   */
  schedules?: boolean;
}

let cachedBundle: Promise<WorkflowBundlePath> | null = null;

/**
 * The workflow bundle's file, checked fresh (and built when it is not, in a
 * child process) once per process: worker/workflow-bundle.ts.
 */
export function workflowBundle(): Promise<WorkflowBundlePath> {
  cachedBundle ??= workflowBundlePath();
  cachedBundle.catch(() => (cachedBundle = null));
  return cachedBundle;
}

export async function createWorkers(deps: WorkerDeps): Promise<Worker[]> {
  const { config } = deps;
  // Issue 19: every message from a domain with keys is DKIM-signed as it is composed.
  if (config.dkimKeySecret) deps.email.useSigner(createDkimSigner(deps.pool, config.dkimKeySecret));
  const senderAuth = senderAuthSettings(config);
  // Every channel's sender is built the same way, from the registry; a channel whose transport is
  // not configured here (SMS without SMPP_URL) gets no sender and no send worker.
  const senders = createSenders({
    pool: deps.pool,
    logger: deps.logger,
    config,
    transports: { email: deps.email, sms: deps.sms },
  });
  const activities = createActivities({
    pool: deps.pool,
    logger: deps.logger,
    senders,
    notices: createNoticeMailer(deps.email, config.bounceDomain, deps.logger),
    settings: {
      notifyFrom: config.notifyFrom,
      invalidAfterErrors: config.invalidAfterErrors,
      quarantineAfterErrors: config.quarantineAfterErrors,
      runThroughputPerMinute: config.runThroughputPerMinute,
      senderAuth,
      language: config.defaultLanguage,
      timeZone: config.accountTimeZone,
    },
  });
  // The consistency sweep talks to Temporal as a client, over the worker's connection.
  const temporal = new Client({ connection: deps.connection, namespace: deps.namespace });
  const sweep = createRunSweepActivities({ pool: deps.pool, temporal, logger: deps.logger, config });
  if (deps.schedules !== false) {
    await ensureRunSweepSchedule(temporal, config.taskQueueWizard);
    await ensureSendingDomainVerificationSchedule(temporal, config.taskQueueWizard);
  }
  const bundle = deps.workflowBundle ?? (await workflowBundle());
  const wizard = await Worker.create({
    connection: deps.connection,
    namespace: deps.namespace,
    taskQueue: config.taskQueueWizard,
    workflowBundle: bundle,
    activities: {
      ...activities,
      ...createCleanupActivities({ pool: deps.pool }),
      ...sweep,
      ...createImportActivities({
        pool: deps.pool,
        logger: deps.logger,
        batchRows: config.importBatchRows,
        countryCallingCode: getCountryCallingCode(config.smsDefaultRegion as CountryCode),
      }),
      ...createSenderAuthActivities({ pool: deps.pool, logger: deps.logger, settings: senderAuth }),
    },
    maxConcurrentActivityTaskExecutions: config.workerMaxConcurrentActivities,
  });
  const sendActivities = {
    sendRunBatch: activities.sendRunBatch,
    sendRetryBatch: activities.sendRetryBatch,
    sendSingleEmail: activities.sendSingleEmail,
    sendSingleSms: activities.sendSingleSms,
  };
  const channelWorkers: Worker[] = [];
  for (const channel of Object.keys(senders) as Channel[]) {
    channelWorkers.push(
      await Worker.create({
        connection: deps.connection,
        namespace: deps.namespace,
        taskQueue: sendQueueFor(config, channel),
        activities: sendActivities,
        maxConcurrentActivityTaskExecutions: config.workerMaxConcurrentActivities,
        ...queueRate(sendRateFor(config, channel)),
      }),
    );
  }
  return [wizard, ...channelWorkers];
}

/**
 * What the worker's SMPP transport receives: delivery receipts, applied to the
 * sends (inbound/sms-receipts.ts) with the receipt window from the configuration,
 * and replies, recorded and read for opt-out keywords (inbound/sms-replies.ts).
 * Start it before the workers, so no receipt of their submits goes unheard,
 * and stop it after they have stopped.
 */
export function startSmsReceipts(
  deps: Pick<WorkerDeps, 'pool' | 'logger' | 'config'> & { sms: SmsTransport },
): { stop(): Promise<void> } {
  const receipts = startSmsReceiptProcessing({
    pool: deps.pool,
    sms: deps.sms,
    logger: deps.logger,
    receiptTimeoutSeconds: deps.config.smsReceiptTimeoutSeconds,
    phoneStatus: {
      countryCallingCode: getCountryCallingCode(deps.config.smsDefaultRegion as CountryCode),
      quarantineAfterErrors: deps.config.quarantineAfterErrors,
    },
  });
  const replies = startSmsReplyProcessing({
    pool: deps.pool,
    sms: deps.sms,
    logger: deps.logger,
    keywords: parseOptOutKeywords(deps.config.smsOptOutKeywords),
    defaultRegion: deps.config.smsDefaultRegion,
  });
  return {
    async stop() {
      await Promise.all([receipts.stop(), replies.stop()]);
    },
  };
}

/** Run workers until they are shut down (SIGINT/SIGTERM are handled by the SDK's Runtime). */
export async function runWorkers(workers: Worker[]): Promise<void> {
  await Promise.all(workers.map((w) => w.run()));
}

/** Provider rate limits: enforced by the Temporal server across every worker of the queue. */
function queueRate(perSecond: number): { maxTaskQueueActivitiesPerSecond?: number } {
  return perSecond > 0 ? { maxTaskQueueActivitiesPerSecond: perSecond } : {};
}
