// Mailbox-full addresses return to valid after 30 days (SPEC 4): the activity
// against the real database, the workflow on the wizard worker, and the
// Schedule plus bounce listener the API process sets up when it starts.
import nodemailer from 'nodemailer';
import { createCleanupActivities } from '../../activities/cleanup-activities';
import { startApi } from '../../api/server';
import { MAILBOX_CLEANUP_SCHEDULE_ID, ensureMailboxCleanupSchedule } from '../../lifecycle/mailbox-cleanup';
import { startHarness, uniqueSuffix, waitFor, type Harness } from '../support/harness';
import { testLogger } from '../support/test-log';
import { freePort } from '../support/stack-main';
import { uniqueWord } from '../support/report-fixtures';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});

afterAll(async () => {
  await h?.stop();
});

const DAY = 24 * 3600 * 1000;

/** An invalidated lead whose address status says `reason`, last seen `daysAgo` days ago, with one failed send of `sendReason`. */
async function invalidated(reason: string, daysAgo: number, sendReason = reason) {
  const address = `${uniqueWord()}@full.example`;
  const at = new Date(Date.now() - daysAgo * DAY);
  const lead = await h.pool.query<{ id: number }>(
    `INSERT INTO lead (name, email, email_valid, email_error_count, created_at, updated_at) VALUES ('F', $1, false, 3, now(), now()) RETURNING id`,
    [address],
  );
  await h.pool.query(
    `INSERT INTO send (channel, lead_id, address, token, result, code, error_type, error_reason, created_at, updated_at)
     VALUES ('email', $1, $2, $3, 'error', 42552, 'soft', $4, $5, $5)`,
    [lead.rows[0]!.id, address, `tok-${uniqueSuffix()}${uniqueSuffix()}`, sendReason, at],
  );
  await h.pool.query(
    `INSERT INTO address_status (channel, address, status, error_type, reason, error_count, first_error_at, last_error_at, source, updated_at)
     VALUES ('email', $1, 'quarantined', 'soft', $2, 3, $3, $3, 'bounce', now())`,
    [address, reason, at],
  );
  return { address, leadId: lead.rows[0]!.id };
}

const statusOf = async (address: string) =>
  (
    await h.pool.query(
      `SELECT status, error_count FROM address_status WHERE channel = 'email' AND address = $1`,
      [address],
    )
  ).rows[0];
const leadOf = async (id: number) =>
  (await h.pool.query('SELECT email_valid, email_error_count FROM lead WHERE id = $1', [id])).rows[0];

test('when a mailbox-full address last failed more than 30 days ago, then it and its lead are valid again', async () => {
  const old = await invalidated('mailbox_full', 31);
  const recent = await invalidated('mailbox_full', 29);
  const other = await invalidated('unknown_user', 60);
  const result = await createCleanupActivities({ pool: h.pool }).releaseMailboxFull();
  expect(result.addresses).toBeGreaterThanOrEqual(1);
  expect(await statusOf(old.address)).toEqual({ status: 'valid', error_count: 0 });
  expect(await leadOf(old.leadId)).toEqual({ email_valid: true, email_error_count: 0 });
  expect(await statusOf(recent.address)).toEqual({ status: 'quarantined', error_count: 3 });
  expect(await leadOf(recent.leadId)).toEqual({ email_valid: false, email_error_count: 3 });
  expect(await statusOf(other.address)).toEqual({ status: 'quarantined', error_count: 3 });
});

test('when a lead was also invalidated by another error, then only the address status is released, not the lead', async () => {
  const mixed = await invalidated('mailbox_full', 40, 'unknown_user');
  await createCleanupActivities({ pool: h.pool }).releaseMailboxFull();
  expect((await statusOf(mixed.address)).status).toBe('valid');
  expect(await leadOf(mixed.leadId)).toEqual({ email_valid: false, email_error_count: 3 });
});

test('when the clean-up workflow runs on the wizard queue, then its activity is registered and releases addresses', async () => {
  const old = await invalidated('mailbox_full', 45);
  const result = await h.temporal.workflow.execute('mailboxCleanupWorkflow', {
    taskQueue: h.config.taskQueueWizard,
    workflowId: `mailbox-cleanup-test-${uniqueSuffix()}`,
    args: [],
  });
  expect(result).toMatchObject({ addresses: expect.any(Number) });
  expect((await statusOf(old.address)).status).toBe('valid');
});

test('when the API process starts, then the daily schedule exists (idempotently) and the bounce mailbox listens', async () => {
  const bounceSmtpPort = await freePort();
  const app = await startApi(
    { ...h.config, port: 0, host: '127.0.0.1', bounceSmtpPort, bounceDomain: 'bounce.start.test' },
    testLogger('api'),
  );
  try {
    const description = await h.temporal.schedule.getHandle(MAILBOX_CLEANUP_SCHEDULE_ID).describe();
    expect(description.action).toMatchObject({
      type: 'startWorkflow',
      workflowType: 'mailboxCleanupWorkflow',
    });
    expect(description.spec.calendars?.length).toBe(1);
    expect(await ensureMailboxCleanupSchedule(h.temporal, h.config.taskQueueWizard)).toBe('exists');

    const smtp = nodemailer.createTransport({
      host: '127.0.0.1',
      port: bounceSmtpPort,
      secure: false,
      ignoreTLS: true,
    });
    const subject = `not a report ${uniqueWord()}`;
    await smtp.sendMail({
      envelope: { from: '', to: ['b+whatever@bounce.start.test'] },
      raw: `From: x@y.example\r\nSubject: ${subject}\r\n\r\nhi\r\n`,
    });
    smtp.close();
    await waitFor('the report to be stored', async () => {
      const r = await h.pool.query(`SELECT status FROM inbound_report WHERE raw LIKE $1`, [`%${subject}%`]);
      return r.rows[0]?.status === 'unmatched';
    });
  } finally {
    await app.close();
  }
});
