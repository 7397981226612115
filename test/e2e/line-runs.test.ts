// LINE end to end (SPEC §7): official accounts, LINE templates, webhooks and wizard runs through the API, pushed to
// the LINE simulator over HTTP. Batches of two, one in flight, so "later batches" exist in a six-lead run.
import { randomBytes } from 'node:crypto';
import { signBody } from '../../channels/line-signature';
import { lineFollowEvent, lineUnfollowEvent, randomUserId, sendLineWebhook } from '../../dev/line-simulator';
import { BLOCKED_DETAIL, MONTHLY_LIMIT_DETAIL } from '../../channels/line/sender';
import { startHarness, uniqueSuffix, waitFor, type Harness } from '../support/harness';
import { createLineAccount } from '../support/fixtures';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ sendBatchSize: 2, sendBatchesInFlight: 1 });
});

afterAll(async () => {
  await h?.stop();
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A channel in the simulator and the official account that holds its credentials. */

async function lineTemplate(
  accountId: number,
  messages: unknown[] = [{ type: 'text', text: 'Hello {{name}}' }],
) {
  const res = await h.api('POST', '/v1/templates', {
    channel: 'line',
    title: `L ${uniqueSuffix()}`,
    lineAccountId: accountId,
    lineMessages: messages,
  });
  expect(res.status).toBe(201);
  return res.body.id as number;
}

async function lead(name: string, lineUserId: string | null): Promise<number> {
  const res = await h.api('POST', '/v1/leads', { name, ...(lineUserId ? { lineUserId } : {}) });
  expect(res.status).toBe(201);
  return res.body.id;
}

async function friendStatus(leadId: number): Promise<string> {
  return (await h.api('GET', `/v1/leads/${leadId}`)).body.lineFriendStatus;
}

const webhookUrl = (accountId: number) => `${h.baseUrl}/v1/line/webhook/${accountId}`;

async function runUntil(body: Record<string, unknown>, until: string[]) {
  const created = await h.api('POST', '/v1/wizard-runs', body);
  expect(created.status).toBe(201);
  return waitFor(
    `run ${created.body.id} to reach ${until.join('/')}`,
    async () => {
      const r = (await h.api('GET', `/v1/wizard-runs/${created.body.id}`)).body;
      return until.includes(r.status) ? r : null;
    },
    90_000,
  );
}

async function sendsOf(runId: number) {
  const res = await h.pool.query('SELECT * FROM send WHERE run_id = $1 ORDER BY lead_id', [runId]);
  return res.rows;
}

describe('official accounts', () => {
  test('when an account is created, read, listed and changed, then no response carries its token or secret', async () => {
    const a = await createLineAccount(h);
    const newToken = `tok-${randomBytes(16).toString('hex')}`;
    const responses = [
      await h.api('GET', `/v1/official-accounts/${a.id}`),
      await h.api('GET', '/v1/official-accounts'),
      await h.api('PATCH', `/v1/official-accounts/${a.id}`, { accessToken: newToken }),
    ];
    for (const r of responses) {
      expect(r.status).toBe(200);
      const text = JSON.stringify(r.body);
      for (const secret of [a.token, a.secret, newToken]) expect(text).not.toContain(secret);
    }
    expect(responses[0]!.body).toMatchObject({
      id: a.id,
      hasAccessToken: true,
      hasChannelSecret: true,
      deleted: false,
    });
    expect(responses[2]!.body.accessTokenTail).toBe(`••••${newToken.slice(-4)}`);
    const stored = await h.pool.query('SELECT access_token FROM official_account WHERE id = $1', [a.id]);
    expect(stored.rows[0].access_token).toBe(newToken);
  });

  test('when an account is deleted, then it is gone from the list and reads as deleted', async () => {
    const a = await createLineAccount(h);
    const kept = await createLineAccount(h);
    expect((await h.api('DELETE', `/v1/official-accounts/${a.id}`)).status).toBe(204);
    const list = (await h.api('GET', '/v1/official-accounts')).body.items as Array<{ id: number }>;
    // The account kept is listed (so ids compare like with like), the deleted one is not.
    expect(list.map((x) => x.id)).toContain(kept.id);
    expect(list.map((x) => x.id)).not.toContain(a.id);
    expect((await h.api('GET', `/v1/official-accounts/${a.id}`)).body.deleted).toBe(true);
  });
});

describe('LINE templates', () => {
  test('when a LINE template names an unknown or deleted account, then it is refused naming body.lineAccountId', async () => {
    const gone = await createLineAccount(h);
    await h.api('DELETE', `/v1/official-accounts/${gone.id}`);
    for (const id of [2_000_000_000, gone.id]) {
      const res = await h.api('POST', '/v1/templates', {
        channel: 'line',
        title: 'x',
        lineAccountId: id,
        lineMessages: [{ type: 'text', text: 'hi' }],
      });
      expect(res.status).toBe(400);
      expect(res.body.field).toBe('body.lineAccountId');
    }
  });

  test('when a LINE template holds an invalid message object, then it is refused naming its path', async () => {
    const a = await createLineAccount(h);
    const res = await h.api('POST', '/v1/templates', {
      channel: 'line',
      title: 'x',
      lineAccountId: a.id,
      lineMessages: [
        { type: 'text', text: 'ok' },
        { type: 'image', originalContentUrl: 'http://insecure.example/a.jpg' },
      ],
    });
    expect(res.status).toBe(400);
    expect(res.body.field).toMatch(/^body\.lineMessages\[1\]\./);
  });

  test('when an email template names a LINE account, then it is refused', async () => {
    const a = await createLineAccount(h);
    const res = await h.api('POST', '/v1/templates', {
      channel: 'email',
      title: 'x',
      subject: 's',
      from: 'a@example.test',
      bodyText: 'b',
      lineAccountId: a.id,
    });
    expect(res.status).toBe(400);
    expect(res.body.field).toBe('body.lineAccountId');
  });
});

describe('the LINE webhook', () => {
  test('when correctly signed unfollow and follow events arrive, then the friend status follows them', async () => {
    const a = await createLineAccount(h);
    const user = randomUserId();
    const id = await lead('Webhook', user);

    const unfollow = await h.line.sendWebhook(webhookUrl(a.id), a.secret, [lineUnfollowEvent(user)]);
    expect(unfollow.status).toBe(200);
    expect(await friendStatus(id)).toBe('blocked');

    const follow = await h.line.sendWebhook(webhookUrl(a.id), a.secret, [
      lineFollowEvent(user, { isUnblocked: true }),
    ]);
    expect(follow.status).toBe(200);
    expect(await friendStatus(id)).toBe('friend');
  });

  test('when the signature is forged or missing, then 401 and nothing changes', async () => {
    const a = await createLineAccount(h);
    const user = randomUserId();
    const id = await lead('Forged', user);
    const forged = await sendLineWebhook(
      webhookUrl(a.id),
      'not-the-secret',
      [lineUnfollowEvent(user)],
      randomUserId(),
    );
    expect(forged.status).toBe(401);
    const unsigned = await fetch(webhookUrl(a.id), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ destination: randomUserId(), events: [lineUnfollowEvent(user)] }),
    });
    expect(unsigned.status).toBe(401);
    expect(await friendStatus(id)).toBe('unknown');
  });

  test('when a correctly signed body is not JSON or not a webhook, then 400 and nothing changes', async () => {
    const a = await createLineAccount(h);
    const user = randomUserId();
    const id = await lead('Malformed', user);
    for (const raw of [
      `{"destination":"x","events":[{"type":"unfollow","source":{"userId":"${user}"`,
      '{"events":[]}',
    ]) {
      const res = await fetch(webhookUrl(a.id), {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-line-signature': signBody(a.secret, raw) },
        body: raw,
      });
      expect(res.status).toBe(400);
    }
    expect(await friendStatus(id)).toBe('unknown');
  });

  // The same answer as a bad signature, so account ids cannot be enumerated (test/e2e/line-webhook.test.ts).
  test('when the account is unknown, then 401', async () => {
    const res = await sendLineWebhook(
      webhookUrl(2_000_000_000),
      'whatever',
      [lineUnfollowEvent(randomUserId())],
      randomUserId(),
    );
    expect(res.status).toBe(401);
  });
});

describe('LINE runs', () => {
  test('when a run goes to friends, a blocked user, a flaky push and leads without or with a duplicate id, then each send and the figures say so', async () => {
    const a = await createLineAccount(h);
    const ok = randomUserId();
    const blocked = randomUserId();
    const flaky = randomUserId();
    h.line.script(flaky, { kind: 'server-error', times: 1, acceptedBeforeError: true });
    const ids = {
      ok: await lead('Aiko', ok),
      blocked: await lead('Blocked', blocked),
      flaky: await lead('Flaky', flaky),
      none: await lead('No LINE', null),
      dup: await lead('Aiko again', ok),
    };
    expect((await h.line.sendWebhook(webhookUrl(a.id), a.secret, [lineUnfollowEvent(blocked)])).status).toBe(
      200,
    );
    const sticker = { type: 'sticker', packageId: '446', stickerId: '1988' };
    const tpl = await lineTemplate(a.id, [{ type: 'text', text: 'Hello {{name}}' }, sticker]);

    const run = await runUntil({ templateId: tpl, leadIds: Object.values(ids) }, ['completed', 'error']);

    expect(run.status).toBe('completed');
    expect(run.counters).toMatchObject({ targets: 3, excluded: 2, sent: 2, preErrors: 1, errors: 0 });
    // LINE never confirms delivery: its delivery rate is not measurable (not 0 %), everywhere.
    expect(run.figures).toMatchObject({
      sent: 2,
      deliveryMeasurable: false,
      deliveryRate: null,
      openRate: null,
    });
    expect((await h.api('GET', `/v1/wizard-runs/${run.id}/figures`)).body.figures.all).toEqual(run.figures);
    const listed = (await h.api('GET', `/v1/wizard-runs?channel=line&limit=500`)).body.items;
    expect(listed.find((r: { id: number }) => r.id === run.id).figures).toEqual(run.figures);
    const pushed = h.line.pushes(ok);
    expect(pushed).toHaveLength(1);
    expect(pushed[0]!.messages).toEqual([{ type: 'text', text: 'Hello Aiko' }, sticker]);
    expect(pushed[0]!.retryKey).toMatch(UUID);
    expect(h.line.pushes(blocked)).toHaveLength(0);
    // The 5xx came after LINE accepted: the retried push reused its key, got 409, and counts once.
    expect(h.line.pushes(flaky)).toHaveLength(1);
    const flakyRequests = h.line.requests(flaky);
    expect(flakyRequests.map((r) => r.status)).toEqual([500, 409]);
    expect(flakyRequests[1]!.retryKey).toBe(flakyRequests[0]!.retryKey);

    const sends = Object.fromEntries((await sendsOf(run.id)).map((s) => [s.lead_id, s]));
    const accountName = (await h.api('GET', `/v1/official-accounts/${a.id}`)).body.name;
    expect(sends[ids.ok]).toMatchObject({ result: 'sent', line_account_name: accountName, address: ok });
    // Two transmissions (the 500, then the 409 for the same retry key): a send's attempts count
    // transmissions (issue 22); LINE's 409 says it was accepted once, and it is counted once above.
    expect(sends[ids.flaky]).toMatchObject({ result: 'sent', attempts: 2 });
    expect(sends[ids.blocked]).toMatchObject({ result: 'pre_error', detail: BLOCKED_DETAIL, sent_at: null });
    const unsent = (await h.api('GET', `/v1/wizard-runs/${run.id}/unsent`)).body.items as Array<{
      leadId: number;
      reason: string;
    }>;
    expect(Object.fromEntries(unsent.map((u) => [u.leadId, u.reason]))).toEqual({
      [ids.none]: 'address_not_specified',
      [ids.dup]: 'duplicate',
    });
  });

  test('when LINE rate-limits a push, then the batch is retried later and the push goes out once with the same key', async () => {
    const a = await createLineAccount(h);
    const user = randomUserId();
    h.line.script(user, { kind: 'rate-limit', times: 1, retryAfterSeconds: 1 });
    const tpl = await lineTemplate(a.id);

    const run = await runUntil({ templateId: tpl, leadIds: [await lead('Busy', user)] }, [
      'completed',
      'error',
    ]);

    expect(run.counters).toMatchObject({ targets: 1, sent: 1, preErrors: 0, errors: 0 });
    const requests = h.line.requests(user);
    expect(requests.map((r) => r.status)).toEqual([429, 200]);
    expect(requests[1]!.retryKey).toBe(requests[0]!.retryKey);
    expect(h.line.pushes(user)).toHaveLength(1);
  });

  test('when the monthly limit runs out mid-run, then that send and every later one are pre-errors and later batches push nothing', async () => {
    const a = await createLineAccount(h, { monthlyQuota: 2 });
    const users = Array.from({ length: 6 }, () => randomUserId());
    const ids: number[] = [];
    for (const [i, u] of users.entries()) ids.push(await lead(`Q${i}`, u));
    const tpl = await lineTemplate(a.id);

    const run = await runUntil({ templateId: tpl, leadIds: ids }, ['completed', 'error']);

    expect(run.status).toBe('completed');
    expect(run.counters).toMatchObject({ targets: 6, sent: 2, preErrors: 4, errors: 0 });
    expect(users.flatMap((u) => h.line.pushes(u))).toHaveLength(2);
    const sends = await sendsOf(run.id);
    expect(sends.filter((s) => s.result === 'pre_error').map((s) => s.detail)).toEqual(
      Array(4).fill(MONTHLY_LIMIT_DETAIL),
    );
    // Batches of two: the third batch starts with the limit known and asks LINE nothing.
    for (const u of users.slice(4)) expect(h.line.requests(u)).toHaveLength(0);
  });
  // A scheduled run whose account goes before its time: test/e2e/scheduled-runs.test.ts.
});
