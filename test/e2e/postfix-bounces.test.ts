// A real MTA in the loop: the worker sends through Postfix (Debian package,
// installed by scripts/setup-postfix.sh), Postfix relays to the SMTP sink,
// the sink refuses one recipient, and Postfix's own DSN comes back to the
// VERP return path through Postfix's transport to our bounce mailbox.
// Postfix must be installed (scripts/setup-postfix.sh, which npm test runs
// first) and we must be root (it is configured and started here); otherwise
// the suite fails here rather than skipping what it could not test.
import { execFileSync, spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { BounceMailbox } from '../../inbound/bounce-mailbox';
import { createApiKey } from '../../db/api-key-queries';
import { SmtpSink } from '../../dev/smtp-sink';
import { startHarness, uniqueSuffix, waitFor, type Harness } from '../support/harness';

const canRun = spawnSync('sh', ['-c', 'command -v postfix']).status === 0 && process.getuid?.() === 0;
if (!canRun)
  test('Postfix is there to run', () => {
    throw new Error('Postfix is not installed or we are not root: run scripts/setup-postfix.sh as root');
  });
const describePostfix = canRun ? describe : () => undefined;

describePostfix('with Postfix as the relay', () => {
  let h: Harness;
  let mailbox: BounceMailbox;
  // The next hop behind Postfix (the harness's own sink is not in this path).
  const sink = new SmtpSink({ port: 0 });
  let key: string;

  const postconf = (...settings: string[]) => execFileSync('postconf', ['-e', ...settings]);

  beforeAll(async () => {
    h = await startHarness({ smtpUrl: 'smtp://127.0.0.1:25', asyncBounceWindowSeconds: 300 });
    mailbox = new BounceMailbox(
      {
        pool: h.pool,
        temporal: h.temporal,
        bounceDomain: h.config.bounceDomain,
        invalidAfterErrors: h.config.invalidAfterErrors,
      },
      { port: 0, host: '127.0.0.1' },
    );
    const { port: mailboxPort } = await mailbox.start();
    const { port: sinkPort } = await sink.start();
    postconf(
      'inet_interfaces = 127.0.0.1',
      'inet_protocols = ipv4',
      'myhostname = mta.postfix.test',
      'mydestination =',
      'relay_domains = receiver.test',
      `transport_maps = inline:{ receiver.test=smtp:[127.0.0.1]:${sinkPort}, ${h.config.bounceDomain}=smtp:[127.0.0.1]:${mailboxPort} }`,
      'smtp_tls_security_level = none',
      'smtpd_tls_security_level = none',
      'maillog_file = /var/log/postfix-test.log',
    );
    if (spawnSync('postfix', ['status']).status === 0) execFileSync('postfix', ['reload']);
    else execFileSync('postfix', ['start']);
    // `postfix start` returns before smtpd answers.
    await waitFor(
      'Postfix on port 25',
      () =>
        new Promise<boolean>((resolve) => {
          const socket = connect(25, '127.0.0.1', () => resolve(true)).once('error', () => resolve(false));
          socket.once('data', () => socket.end());
        }),
    );
    key = (await createApiKey(h.pool, `postfix-${uniqueSuffix()}`, ['read', 'write'])).key;
  });

  afterAll(async () => {
    spawnSync('postfix', ['stop']);
    await mailbox?.stop();
    await sink.stop();
    await h?.stop();
  });

  async function call(method: string, path: string, body?: unknown) {
    const res = await fetch(`${h.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  }

  test("when Postfix accepts a message the next hop refuses, then Postfix's own DSN turns the send into 90000", async () => {
    const tag = uniqueSuffix();
    const good = (await call('POST', '/v1/leads', { name: 'ok', email: `ok.${tag}@receiver.test` })).body.id;
    const bad = (await call('POST', '/v1/leads', { name: 'gone', email: `bounce550+${tag}@receiver.test` }))
      .body.id;
    const tpl = await call('POST', '/v1/templates', {
      channel: 'email',
      title: `Postfix ${tag}`,
      subject: 'Hi',
      from: 'news@example.test',
      bodyText: 'Hello',
    });
    const created = await call('POST', '/v1/wizard-runs', { templateId: tpl.body.id, leadIds: [good, bad] });
    const run = await waitFor('completion', async () => {
      const r = (await call('GET', `/v1/wizard-runs/${created.body.id}`)).body;
      return r.status === 'completed' ? r : null;
    });
    // Postfix accepted both: the refusal happens after, on the next hop.
    const all = (
      await h.pool.query('SELECT address, result, code, detail FROM send WHERE run_id = $1', [run.id])
    ).rows;
    expect({ counters: run.counters, all }).toMatchObject({ counters: { sent: 2, delivered: 2, errors: 0 } });
    const badSend = (
      await h.pool.query('SELECT * FROM send WHERE run_id = $1 AND lead_id = $2', [run.id, bad])
    ).rows[0];

    const send = await waitFor(
      "Postfix's DSN to be applied",
      async () => {
        const s = (await call('GET', `/v1/sends/${badSend.id}`)).body;
        return s.code === 90000 ? s : null;
      },
      90_000,
    );
    expect(send).toMatchObject({ result: 'error', errorType: 'hard', errorReason: 'unknown_user' });
    const report = (await h.pool.query('SELECT * FROM inbound_report WHERE send_id = $1', [badSend.id]))
      .rows[0];
    expect(report).toMatchObject({ kind: 'dsn', action: 'bounce', status: 'applied' });
    expect(report.raw).toContain('Reporting-MTA: dns; mta.postfix.test');
    await waitFor(
      'the good message at the sink',
      async () => sink.messagesTo(`ok.${tag}@receiver.test`).length === 1,
    );
    expect((await call('GET', `/v1/wizard-runs/${run.id}`)).body.counters).toMatchObject({
      delivered: 1,
      errors: 1,
    });
    await h.temporal.workflow.getHandle(run.taskId).cancel();
  });
});
