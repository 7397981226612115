// Real MTAs in the loop (issue 16): the worker sends through Exim, OpenSMTPD,
// dma or a private Postfix (test/support/real-mtas.ts; scripts/setup-mtas.sh
// and scripts/setup-postfix.sh fetch them), the MTA relays to a next hop that
// refuses the way real servers do, and the MTA's OWN bounce, in its own
// format, comes back through the product's bounce SMTP listener. Each case
// asserts how the stored inbound report reads it: the recipient, the action,
// the error type and reason, and the remote text.
//
// An MTA that cannot be had here fails its test (with why). A case an
// MTA does not turn into a bounce within seconds is not run (see `skipped` in
// test/support/real-mtas.ts for why, per MTA).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BounceMailbox } from '../../inbound/bounce-mailbox';
import { SmtpSink, type SinkBehaviour } from '../../dev/smtp-sink';
import { freePort, REAL_MTAS, type RealMta, type RunningMta, type Scenario } from '../support/real-mtas';
import { startHarness, uniqueSuffix, waitFor, type Harness } from '../support/harness';

interface Case {
  scenario: Scenario;
  /** Local part and domain of the lead's address (the tag is added between). */
  local: string;
  domain: 'receiver.test' | 'unreachable.test';
  /** What the next hop answers at RCPT TO (none: the domain leads nowhere). */
  refusal: SinkBehaviour | null;
  expected: { errorType: string; errorReason: string };
  /** What the stored remote text must show, where the refusal carried a reply. */
  text: RegExp | null;
}

const CASES: readonly Case[] = [
  {
    scenario: 'unknown-user',
    local: 'gone',
    domain: 'receiver.test',
    refusal: { kind: 'reject-rcpt', code: 550, enhanced: '5.1.1', text: 'user unknown' },
    expected: { errorType: 'hard', errorReason: 'unknown_user' },
    text: /550 5\.1\.1/,
  },
  {
    scenario: 'mailbox-full',
    local: 'full',
    domain: 'receiver.test',
    refusal: { kind: 'reject-rcpt', code: 552, enhanced: '5.2.2', text: 'mailbox full' },
    expected: { errorType: 'soft', errorReason: 'mailbox_full' },
    text: /552 5\.2\.2/,
  },
  {
    scenario: 'mailbox-full-452',
    local: 'full452',
    domain: 'receiver.test',
    refusal: { kind: 'reject-rcpt', code: 452, enhanced: '4.2.2', text: 'mailbox full' },
    expected: { errorType: 'soft', errorReason: 'mailbox_full' },
    text: /452 4\.2\.2/,
  },
  {
    scenario: 'policy',
    local: 'policy',
    domain: 'receiver.test',
    refusal: { kind: 'reject-rcpt', code: 550, enhanced: '5.7.1', text: 'refused by policy' },
    // A refusal about policy never counts against the address (issue 16, "whose fault").
    expected: { errorType: 'soft', errorReason: 'refused' },
    text: /550 5\.7\.1/,
  },
  {
    scenario: 'unreachable',
    local: 'nobody',
    domain: 'unreachable.test',
    refusal: null,
    expected: { errorType: 'soft', errorReason: 'unreachable' },
    text: null,
  },
];

// REAL_MTA_CAPTURE_DIR=DIR: also write each bounce as received to DIR/<mta>/<case>.eml
// (how test/fixtures/bounces/real/ can be refreshed).
const CAPTURE_DIR = process.env.REAL_MTA_CAPTURE_DIR;

for (const mta of REAL_MTAS) {
  const why = mta.unavailable();
  if (why) {
    // Not a skip: a suite without the real MTAs has not tested what they produce.
    describe(`with ${mta.label} as the relay`, () => {
      test(`${mta.label} is there to run`, () => {
        throw new Error(`${mta.label} ${why}: run scripts/setup-mtas.sh (npm test runs it first)`);
      });
    });
    continue;
  }
  describeMta(mta);
}

function describeMta(mta: RealMta): void {
  describe(`with ${mta.label} as the relay`, () => {
    let h: Harness;
    let mailbox: BounceMailbox;
    let running: RunningMta | undefined;
    // The next hop behind the MTA (the harness's own sink is not in this path,
    // except for dma, which takes its mail from it as a local program would).
    const sink = new SmtpSink({ port: 0 });
    let dir: string | undefined;
    const tag = uniqueSuffix();
    const addressOf = (c: Case) => `${c.local}.${tag}@${c.domain}`;
    const good = `ok.${tag}@receiver.test`;
    const cases = CASES.filter((c) => !mta.skipped[c.scenario]);
    const leadOf = new Map<string, string>();
    let runId: number;
    let taskId: string;
    let startedAt: Date;

    beforeAll(async () => {
      const port = await freePort();
      const deadPort = await freePort();
      h = await startHarness({
        ...(mta.listens ? { smtpUrl: `smtp://127.0.0.1:${port}` } : {}),
        asyncBounceWindowSeconds: 300,
      });
      mailbox = new BounceMailbox(
        {
          pool: h.pool,
          temporal: h.temporal,
          bounceDomain: h.config.bounceDomain,
          invalidAfterErrors: h.config.invalidAfterErrors,
        },
        { port: 0, host: '127.0.0.1' },
      );
      const { port: bouncePort } = await mailbox.start();
      const { port: sinkPort } = await sink.start();
      for (const c of cases) if (c.refusal) sink.script(addressOf(c), c.refusal);
      dir = mkdtempSync(join(tmpdir(), `mta-${mta.name}-`));
      running = await mta.start(dir, {
        port,
        sink,
        sinkPort,
        bounceDomain: h.config.bounceDomain,
        bouncePort,
        deadPort,
      });
      if (!mta.listens) {
        const submit = running.submit!;
        // A failed hand-over is in the MTA's log, printed when a case times out.
        h.sink.onMessage((mail) => void submit(mail.from, mail.to, mail.raw).catch(() => undefined));
      }

      startedAt = new Date(Date.now() - 1000);
      const leadIds: string[] = [];
      for (const email of [good, ...cases.map(addressOf)]) {
        const lead = await h.api('POST', '/v1/leads', { name: email.split('@')[0], email });
        expect(lead.status).toBe(201);
        leadOf.set(email, lead.body.id);
        leadIds.push(lead.body.id);
      }
      const tpl = await h.api('POST', '/v1/templates', {
        channel: 'email',
        title: `${mta.name} ${tag}`,
        subject: 'Hi',
        from: 'news@example.test',
        bodyText: 'Hello',
      });
      const created = await h.api('POST', '/v1/wizard-runs', { templateId: tpl.body.id, leadIds });
      expect(created.status).toBe(201);
      runId = created.body.id;
      taskId = (await h.api('GET', `/v1/wizard-runs/${runId}`)).body.taskId;
    });

    afterAll(async () => {
      if (taskId)
        await h.temporal.workflow
          .getHandle(taskId)
          .cancel()
          .catch(() => undefined);
      await running?.stop();
      await mailbox?.stop();
      await sink.stop();
      await h?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    test(`${mta.name} relays what the next hop accepts, and no report comes back for it`, async () => {
      await waitFor(`the good message at the next hop, through ${mta.name}`, async () =>
        sink.messagesTo(good).length === 1 ? true : null,
      ).catch(withLog);
      const send = await sendOf(good);
      const reports = await h.pool.query('SELECT id FROM inbound_report WHERE send_id = $1', [send.id]);
      expect(reports.rows).toEqual([]);
    });

    test.each(cases.map((c) => [c.scenario, c] as const))(
      `%s: ${mta.name}'s own bounce is read right`,
      async (_name, c) => {
        const address = addressOf(c);
        const send = await sendOf(address);
        const report = await waitFor(
          `${mta.name}'s bounce for ${address}`,
          async () =>
            (
              await h.pool.query(
                `SELECT * FROM inbound_report
                  WHERE received_at >= $3 AND (send_id = $1 OR strpos(raw, $2) > 0)
                  ORDER BY id LIMIT 1`,
                [send.id, address, startedAt],
              )
            ).rows[0],
          120_000,
        ).catch(withLog);
        if (CAPTURE_DIR) {
          mkdirSync(join(CAPTURE_DIR, mta.name), { recursive: true });
          writeFileSync(join(CAPTURE_DIR, mta.name, `${c.scenario}.eml`), report.raw);
        }
        const reading = {
          sendId: report.send_id === null ? null : String(report.send_id),
          kind: report.kind,
          action: report.action,
          recipient: report.recipient,
          errorType: report.error_type,
          errorReason: report.error_reason,
        };
        expect({ reading, detail: report.detail, remoteText: report.remote_text }).toMatchObject({
          reading: {
            sendId: String(send.id),
            kind: 'dsn',
            action: 'bounce',
            recipient: address,
            ...c.expected,
          },
        });
        if (c.text) expect(report.remote_text).toMatch(c.text);
      },
    );

    // Cases this MTA does not bounce within seconds (it defers for minutes or days) are not
    // run; `skipped` in test/support/real-mtas.ts says why for each.

    function withLog(err: Error): never {
      throw new Error(`${err.message}\n--- ${mta.name} log ---\n${running?.log() ?? ''}`);
    }

    async function sendOf(address: string): Promise<{ id: string }> {
      const leadId = leadOf.get(address);
      return waitFor(`the send to ${address}`, async () => {
        const r = await h.pool.query('SELECT id FROM send WHERE run_id = $1 AND lead_id = $2', [
          runId,
          leadId,
        ]);
        return r.rows[0] as { id: string } | undefined;
      });
    }
  });
}
