// The LINE webhook against the real API (issue 14 §7): each event is applied once, by its webhookEventId, and the
// latest event of a user decides its friend status, so LINE's redeliveries (and anyone replaying a captured, signed
// body) are harmless; an unknown account and a bad signature get the same answer.
import { signBody } from '../../channels/line-signature';
import { lineFollowEvent, lineUnfollowEvent, randomUserId, sendLineWebhook } from '../../dev/line-simulator';
import { startHarness, uniqueSuffix, type Harness } from '../support/harness';
import { createLineAccount } from '../support/fixtures';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});

afterAll(async () => {
  await h?.stop();
});

async function lead(lineUserId: string): Promise<number> {
  const res = await h.api('POST', '/v1/leads', { name: `L ${uniqueSuffix()}`, lineUserId });
  expect(res.status).toBe(201);
  return res.body.id;
}

async function friendStatus(leadId: number): Promise<string> {
  return (await h.api('GET', `/v1/leads/${leadId}`)).body.lineFriendStatus;
}

const url = (accountId: number) => `${h.baseUrl}/v1/line/webhook/${accountId}`;

/** POSTs exactly these bytes with their signature, as LINE (or someone replaying a captured request) would. */
async function post(accountId: number, raw: string, signature: string | null) {
  const res = await fetch(url(accountId), {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(signature === null ? {} : { 'x-line-signature': signature }),
    },
    body: raw,
  });
  return { status: res.status, body: await res.text() };
}

const webhookBody = (events: unknown[]) => JSON.stringify({ destination: randomUserId(), events });

describe('each LINE event is applied once', () => {
  test('when a captured unfollow is replayed after the user befriended the account again, then the user stays a friend', async () => {
    const a = await createLineAccount(h);
    const user = randomUserId();
    const id = await lead(user);
    const t0 = Date.now();
    const unfollow = webhookBody([lineUnfollowEvent(user, { timestamp: t0 })]);
    const first = await post(a.id, unfollow, signBody(a.secret, unfollow));
    expect(first.status).toBe(200);
    expect(JSON.parse(first.body)).toMatchObject({ leadsUpdated: 1, eventsApplied: 1, eventsRepeated: 0 });
    expect(await friendStatus(id)).toBe('blocked');

    const follow = webhookBody([lineFollowEvent(user, { timestamp: t0 + 1000, isUnblocked: true })]);
    expect((await post(a.id, follow, signBody(a.secret, follow))).status).toBe(200);
    expect(await friendStatus(id)).toBe('friend');

    // The very same signed bytes again: LINE's redelivery, or a replay by whoever captured them.
    const replay = await post(a.id, unfollow, signBody(a.secret, unfollow));
    expect(replay.status).toBe(200);
    expect(JSON.parse(replay.body)).toMatchObject({ leadsUpdated: 0, eventsApplied: 0, eventsRepeated: 1 });
    expect(await friendStatus(id)).toBe('friend');
  });

  test('when an older unfollow is first delivered after a later follow, then it is recorded but does not re-block', async () => {
    const a = await createLineAccount(h);
    const user = randomUserId();
    const id = await lead(user);
    const t0 = Date.now();
    expect(
      (await h.line.sendWebhook(url(a.id), a.secret, [lineFollowEvent(user, { timestamp: t0 })])).status,
    ).toBe(200);
    expect(await friendStatus(id)).toBe('friend');
    // LINE redelivers an event our side failed to take earlier: a new id to us, an older timestamp.
    const late = lineUnfollowEvent(user, { timestamp: t0 - 60_000, isRedelivery: true });
    const res = await h.line.sendWebhook(url(a.id), a.secret, [late]);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ eventsApplied: 1, leadsUpdated: 0 });
    expect(await friendStatus(id)).toBe('friend');
    const stored = await h.pool.query(
      'SELECT count(*)::int AS n FROM line_webhook_event WHERE user_id = $1',
      [user],
    );
    expect(stored.rows[0].n).toBe(2);
  });

  test('when one body repeats an event id and later bodies repeat it again, then it is stored once', async () => {
    const a = await createLineAccount(h);
    const user = randomUserId();
    const id = await lead(user);
    const event = lineUnfollowEvent(user);
    const res = await h.line.sendWebhook(url(a.id), a.secret, [event, event]);
    expect(JSON.parse(res.body)).toMatchObject({ eventsApplied: 1, eventsRepeated: 1, leadsUpdated: 1 });
    for (let i = 0; i < 3; i++) await h.line.sendWebhook(url(a.id), a.secret, [event]);
    const stored = await h.pool.query(
      'SELECT count(*)::int AS n FROM line_webhook_event WHERE user_id = $1',
      [user],
    );
    expect(stored.rows[0].n).toBe(1);
    expect(await friendStatus(id)).toBe('blocked');
  });

  test('when follows and unfollows of one user arrive at once in any order, then the latest by LINE time wins', async () => {
    const a = await createLineAccount(h);
    const user = randomUserId();
    const id = await lead(user);
    const t0 = Date.now();
    // Twenty events, alternating; the latest (index 19) is a follow. Sent concurrently, latest first.
    const events = Array.from({ length: 20 }, (_, i) =>
      i % 2 === 0
        ? lineUnfollowEvent(user, { timestamp: t0 + i })
        : lineFollowEvent(user, { timestamp: t0 + i }),
    );
    const answers = await Promise.all(
      [...events].reverse().map((e) => h.line.sendWebhook(url(a.id), a.secret, [e])),
    );
    expect(answers.map((r) => r.status)).toEqual(answers.map(() => 200));
    expect(await friendStatus(id)).toBe('friend');
  });
});

describe('the webhook does not tell which accounts exist', () => {
  test('when the account is unknown, the signature wrong or missing, then the answer is the same 401 and nothing changes', async () => {
    const a = await createLineAccount(h);
    const user = randomUserId();
    const id = await lead(user);
    const raw = webhookBody([lineUnfollowEvent(user)]);
    const maxId = await h.pool.query<{ max: number }>(
      'SELECT coalesce(max(id), 0)::int AS max FROM official_account',
    );
    const unknownId = maxId.rows[0]!.max + 1000;
    const answers = [
      await post(unknownId, raw, signBody(a.secret, raw)), // unknown account, a valid-looking signature
      await post(unknownId, raw, null), // unknown account, no signature
      await post(a.id, raw, signBody('not-the-secret', raw)), // real account, wrong signature
      await post(a.id, raw, null), // real account, no signature
    ];
    for (const answer of answers) expect(answer).toEqual(answers[0]);
    expect(answers[0]!.status).toBe(401);
    expect(await friendStatus(id)).toBe('unknown');
    // The simulator's own signing path gives the same answer for an unknown account.
    const viaSim = await sendLineWebhook(
      url(unknownId),
      'whatever',
      [lineUnfollowEvent(user)],
      randomUserId(),
    );
    expect(viaSim).toEqual(answers[0]);
  });
});

describe('one malformed event does not cost the others (issue 21 item 6)', () => {
  test('when a signed body holds valid events and malformed ones, then the valid are applied, the malformed recorded with the reason, and the answer is 200', async () => {
    const a = await createLineAccount(h);
    const users = [randomUserId(), randomUserId(), randomUserId()];
    const ids = [await lead(users[0]!), await lead(users[1]!), await lead(users[2]!)];
    const bad = [
      { ...lineUnfollowEvent(users[2]!), timestamp: 1e20 },
      { ...lineUnfollowEvent(users[2]!), timestamp: -1 },
      { ...lineUnfollowEvent(users[2]!), webhookEventId: 'bad\u0000id' },
      { ...lineUnfollowEvent(users[2]!), webhookEventId: 'x'.repeat(200) },
      { ...lineFollowEvent(users[2]!), source: { type: 'user', userId: 'U123' } },
      7,
    ];
    const events = [lineUnfollowEvent(users[0]!), ...bad, lineFollowEvent(users[1]!)];
    const raw = webhookBody(events);

    const res = await post(a.id, raw, signBody(a.secret, raw));

    expect(res.status).toBe(200);
    const answer = JSON.parse(res.body);
    expect(answer).toMatchObject({ eventsApplied: 2, leadsUpdated: 2, eventsRejected: bad.length });
    expect(answer.rejected.map((r: { index: number; reason: string }) => r.reason.split(':')[0])).toEqual([
      'events[1].timestamp',
      'events[2].timestamp',
      'events[3].webhookEventId',
      'events[4].webhookEventId',
      'events[5].source.userId',
      'events[6]',
    ]);
    expect(await friendStatus(ids[0]!)).toBe('blocked');
    expect(await friendStatus(ids[1]!)).toBe('friend');
    expect(await friendStatus(ids[2]!)).toBe('unknown');
    const stored = await h.pool.query(
      'SELECT reason, event FROM line_webhook_rejected_event WHERE account_id = $1 ORDER BY id',
      [a.id],
    );
    expect(stored.rows.map((r) => r.reason)).toEqual(
      answer.rejected.map((r: { reason: string }) => r.reason),
    );
    expect(stored.rows[0].event).toEqual(bad[0]);

    // LINE redelivers the body: nothing applies twice, a bad event with a readable id is kept once.
    const again = await post(a.id, raw, signBody(a.secret, raw));
    expect(JSON.parse(again.body)).toMatchObject({ eventsApplied: 0, eventsRepeated: 2, eventsRejected: 6 });
    const count = await h.pool.query(
      'SELECT count(*)::int AS n FROM line_webhook_rejected_event WHERE account_id = $1',
      [a.id],
    );
    // The three events without a readable webhookEventId cannot be told apart from new ones: kept again.
    expect(count.rows[0].n).toBe(bad.length + 3);
  });
});

describe('a late redelivery does not overwrite a newer friendship (issue 21 item 5)', () => {
  test('when a follow at t+10 is applied and a redelivered unfollow stamped t+3 arrives, then the user stays a friend', async () => {
    const a = await createLineAccount(h);
    const user = randomUserId();
    const id = await lead(user);
    const t = Date.now();
    await h.line.sendWebhook(url(a.id), a.secret, [lineFollowEvent(user, { timestamp: t + 10 })]);
    expect(await friendStatus(id)).toBe('friend');

    const late = await h.line.sendWebhook(url(a.id), a.secret, [
      lineUnfollowEvent(user, { timestamp: t + 3, isRedelivery: true }),
    ]);

    expect(late.status).toBe(200);
    expect(JSON.parse(late.body)).toMatchObject({ eventsApplied: 1, leadsUpdated: 0 });
    expect(await friendStatus(id)).toBe('friend');
    // A newer unfollow still applies.
    await h.line.sendWebhook(url(a.id), a.secret, [lineUnfollowEvent(user, { timestamp: t + 11 })]);
    expect(await friendStatus(id)).toBe('blocked');
  });
});
