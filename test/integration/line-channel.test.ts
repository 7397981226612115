// Drives the real LINE client against the real LINE simulator over HTTP, so the outcomes asserted here are the ones
// the LINE channel will produce from LINE-shaped answers. Also checks webhook signing end to end.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLineClient, type LineClient } from '../../channels/line/client';
import { signBody, verifySignature } from '../../channels/line-signature';
import type { LineMessage } from '../../domain/line-messages';
import { parseLineWebhook } from '../../domain/line-webhook';
import {
  LineSimulator,
  lineFollowEvent,
  lineUnfollowEvent,
  randomUserId,
  sendLineWebhook,
} from '../../dev/line-simulator';

let sim: LineSimulator;
let client: LineClient;
let token: string;
let secret: string;

const hello: LineMessage[] = [{ type: 'text', text: 'Hello from the autumn sale' }];
const newToken = (): string => `tok-${randomBytes(12).toString('hex')}`;

beforeAll(async () => {
  sim = new LineSimulator();
  token = newToken();
  secret = randomBytes(16).toString('hex');
  sim.addChannel({ accessToken: token, channelSecret: secret });
  const { baseUrl } = await sim.start();
  client = createLineClient({ baseUrl, timeoutMs: 5_000 });
});

afterAll(async () => {
  await sim.stop();
});

describe('push', () => {
  test('when a valid push is sent, then it is accepted with one message id per message and recorded once', async () => {
    const to = randomUserId();
    const retryKey = randomUUID();
    const messages: LineMessage[] = [
      { type: 'text', text: 'Hello' },
      { type: 'sticker', packageId: '446', stickerId: '1988' },
      {
        type: 'image',
        originalContentUrl: 'https://cdn.example.jp/a.jpg',
        previewImageUrl: 'https://cdn.example.jp/a-s.jpg',
      },
    ];

    const outcome = await client.push({ accessToken: token, to, messages, retryKey });

    expect(outcome).toMatchObject({ kind: 'sent', result: 'sent', status: 200, retryable: false });
    expect(outcome.sentMessageIds).toHaveLength(3);
    const pushes = sim.pushes(to);
    expect(pushes).toHaveLength(1);
    expect(pushes[0]).toMatchObject({
      retryKey,
      delivered: true,
      messages,
      sentMessageIds: outcome.sentMessageIds,
      requestId: outcome.requestId,
    });
  });

  test.each<[string, () => { to: string; messages: unknown }, string]>([
    [
      'an empty text',
      () => ({ to: randomUserId(), messages: [{ type: 'text', text: '' }] }),
      'messages[0].text',
    ],
    [
      'a text over 5000 characters',
      () => ({ to: randomUserId(), messages: [{ type: 'text', text: 'x'.repeat(5001) }] }),
      'messages[0].text',
    ],
    [
      'six messages',
      () => ({
        to: randomUserId(),
        messages: Array.from({ length: 6 }, () => ({ type: 'text', text: 'x' })),
      }),
      'messages',
    ],
    ['no messages', () => ({ to: randomUserId(), messages: [] }), 'messages'],
    [
      'an unknown message type',
      () => ({ to: randomUserId(), messages: [{ type: 'poll' }] }),
      'messages[0].type',
    ],
    [
      'an image over http',
      () => ({
        to: randomUserId(),
        messages: [
          { type: 'image', originalContentUrl: 'http://x.jp/a.jpg', previewImageUrl: 'https://x.jp/a.jpg' },
        ],
      }),
      'messages[0].originalContentUrl',
    ],
    ['a malformed user id', () => ({ to: 'U-not-a-user', messages: hello }), 'to'],
  ])(
    'when the push holds %s, then LINE-style 400 details make it a permanent invalid request',
    async (_name, make, property) => {
      const { to, messages } = make();
      const outcome = await client.push({
        accessToken: token,
        to,
        messages: messages as LineMessage[],
        retryKey: randomUUID(),
      });

      expect(outcome).toMatchObject({
        kind: 'invalid_request',
        result: 'error',
        retryable: false,
        status: 400,
      });
      expect(outcome.details.map((d) => d.property)).toContain(property);
      expect(outcome.detail).toMatch(/^400 The request body has \d+ error\(s\)/);
      expect(sim.pushes(to)).toHaveLength(0);
    },
  );

  test('when the retry key is not a UUID, then the 400 names the header', async () => {
    const to = randomUserId();
    const outcome = await client.push({ accessToken: token, to, messages: hello, retryKey: 'attempt-1' });

    expect(outcome).toMatchObject({ kind: 'invalid_request', retryable: false });
    expect(outcome.details).toEqual([
      { property: 'X-Line-Retry-Key', message: expect.stringMatching(/UUID/) },
    ]);
  });

  test('when the token is unknown, then the outcome is unauthorized and never shows the token', async () => {
    const wrong = newToken();
    const outcome = await client.push({
      accessToken: wrong,
      to: randomUserId(),
      messages: hello,
      retryKey: randomUUID(),
    });

    expect(outcome).toMatchObject({ kind: 'unauthorized', retryable: false, accountWide: true, status: 401 });
    expect(JSON.stringify(outcome)).not.toContain(wrong);
  });

  test('when LINE cannot be reached, then the outcome is a retryable network error without the token', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const offline = createLineClient({ baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 2_000 });

    const outcome = await offline.push({
      accessToken: token,
      to: randomUserId(),
      messages: hello,
      retryKey: randomUUID(),
    });

    expect(outcome).toMatchObject({ kind: 'network_error', retryable: true, status: null });
    expect(outcome.detail).toMatch(/ECONNREFUSED/);
    expect(JSON.stringify(outcome)).not.toContain(token);
  });

  test('when a token holds a newline, then the failure detail still does not show it', async () => {
    const broken = `${newToken()}\nX-Evil: 1`;
    const outcome = await client.push({
      accessToken: broken,
      to: randomUserId(),
      messages: hello,
      retryKey: randomUUID(),
    });

    expect(outcome.result).toBe('error');
    expect(JSON.stringify(outcome)).not.toContain(broken.split('\n')[0]);
  });
});

describe('retries', () => {
  test('when LINE accepted a push but answered 500, then the retry with the same key gets 409, counted as sent, and the user gets it once', async () => {
    const to = randomUserId();
    const retryKey = randomUUID();
    sim.script(to, { kind: 'server-error', times: 1, acceptedBeforeError: true });

    const first = await client.push({ accessToken: token, to, messages: hello, retryKey });
    const second = await client.push({ accessToken: token, to, messages: hello, retryKey });

    expect(first).toMatchObject({ kind: 'server_error', result: 'error', retryable: true, status: 500 });
    expect(second).toMatchObject({ kind: 'already_accepted', result: 'sent', status: 409 });
    const pushes = sim.pushes(to);
    expect(pushes).toHaveLength(1);
    expect(second.acceptedRequestId).toBe(pushes[0]?.requestId);
  });

  test('when LINE answered 500 without accepting, then the retry with the same key is accepted, once', async () => {
    const to = randomUserId();
    const retryKey = randomUUID();
    sim.script(to, { kind: 'server-error', times: 1, status: 503 });

    const first = await client.push({ accessToken: token, to, messages: hello, retryKey });
    const second = await client.push({ accessToken: token, to, messages: hello, retryKey });

    expect(first).toMatchObject({ kind: 'server_error', retryable: true, status: 503 });
    expect(second).toMatchObject({ kind: 'sent', status: 200 });
    expect(sim.pushes(to)).toHaveLength(1);
  });

  test('when LINE answers too late, then a timeout is retryable and the retry with the same key is not a second delivery', async () => {
    const to = randomUserId();
    const retryKey = randomUUID();
    sim.script(to, { kind: 'slow', delayMs: 1_500, times: 1 });
    const impatient = createLineClient({ baseUrl: sim.baseUrl, timeoutMs: 200 });

    const first = await impatient.push({ accessToken: token, to, messages: hello, retryKey });
    const second = await client.push({ accessToken: token, to, messages: hello, retryKey });

    expect(first).toMatchObject({
      kind: 'timeout',
      retryable: true,
      status: null,
      detail: 'no answer from LINE: no response within 200 ms',
    });
    expect(second).toMatchObject({ kind: 'already_accepted', result: 'sent' });
    expect(sim.pushes(to)).toHaveLength(1);
  });

  test('when rate limited once, then the outcome carries Retry-After and the retry succeeds', async () => {
    const to = randomUserId();
    const retryKey = randomUUID();
    sim.script(to, { kind: 'rate-limit', times: 1, retryAfterSeconds: 2 });

    const first = await client.push({ accessToken: token, to, messages: hello, retryKey });
    const second = await client.push({ accessToken: token, to, messages: hello, retryKey });

    expect(first).toMatchObject({
      kind: 'rate_limited',
      result: 'error',
      retryable: true,
      retryAfterMs: 2_000,
      status: 429,
    });
    expect(second).toMatchObject({ kind: 'sent' });
    expect(sim.requests(to).map((r) => r.status)).toEqual([429, 200]);
    expect(sim.pushes(to)).toHaveLength(1);
  });

  test('when the user id starts with U500500, then the built-in convention loses the first answer the same way', async () => {
    const to = `U500500${randomBytes(13).toString('hex')}`;
    const retryKey = randomUUID();

    const first = await client.push({ accessToken: token, to, messages: hello, retryKey });
    const second = await client.push({ accessToken: token, to, messages: hello, retryKey });

    expect([first.kind, second.kind]).toEqual(['server_error', 'already_accepted']);
    expect(sim.pushes(to)).toHaveLength(1);
  });
});

describe('monthly limit and blocked users', () => {
  test('when LINE says the monthly limit is reached, then the outcome is monthly_limit, a pre-error for the whole account', async () => {
    const to = randomUserId();
    sim.script(to, { kind: 'monthly-limit' });

    const outcome = await client.push({ accessToken: token, to, messages: hello, retryKey: randomUUID() });

    expect(outcome).toMatchObject({
      kind: 'monthly_limit',
      result: 'pre_error',
      retryable: false,
      accountWide: true,
      status: 429,
    });
    expect(sim.pushes(to)).toHaveLength(0);
  });

  test('when a channel spends its monthly quota, then later pushes get the monthly limit and the quota endpoints agree', async () => {
    const own = newToken();
    sim.addChannel({ accessToken: own, channelSecret: 's', monthlyQuota: 2 });
    const push = () =>
      client.push({ accessToken: own, to: randomUserId(), messages: hello, retryKey: randomUUID() });

    const kinds = [(await push()).kind, (await push()).kind, (await push()).kind];

    expect(kinds).toEqual(['sent', 'sent', 'monthly_limit']);
    expect(await client.getQuota(own)).toMatchObject({ ok: true, value: { type: 'limited', value: 2 } });
    expect(await client.getQuotaConsumption(own)).toMatchObject({ ok: true, value: { totalUsage: 2 } });
  });

  test('when a global monthly quota of 0 is set, then every channel without its own quota gets the monthly limit', async () => {
    sim.setMonthlyQuota(0);
    try {
      const outcome = await client.push({
        accessToken: token,
        to: randomUserId(),
        messages: hello,
        retryKey: randomUUID(),
      });
      expect(outcome.kind).toBe('monthly_limit');
    } finally {
      sim.setMonthlyQuota(null);
    }
  });

  test('when the user blocked the account, then LINE accepts the push but the simulator records it as not delivered', async () => {
    const own = newToken();
    sim.addChannel({ accessToken: own, channelSecret: 's' });
    const to = randomUserId();
    sim.script(to, { kind: 'blocked' });

    const outcome = await client.push({ accessToken: own, to, messages: hello, retryKey: randomUUID() });

    expect(outcome).toMatchObject({ kind: 'sent', result: 'sent', status: 200 });
    expect(sim.pushes(to)).toEqual([expect.objectContaining({ to, delivered: false })]);
    expect(await client.getQuotaConsumption(own)).toMatchObject({ ok: true, value: { totalUsage: 0 } });
  });

  test('when the user id starts with Ub10cced, then the built-in convention treats the user as blocked', async () => {
    const to = `Ub10cced${randomBytes(12).toString('hex')}0`;
    const outcome = await client.push({ accessToken: token, to, messages: hello, retryKey: randomUUID() });

    expect(outcome.kind).toBe('sent');
    expect(sim.pushes(to)[0]?.delivered).toBe(false);
  });

  test('when LINE does not know the user, then "Failed to send messages" is a permanent invalid request', async () => {
    const to = randomUserId();
    sim.script(to, { kind: 'unknown-user' });
    const outcome = await client.push({ accessToken: token, to, messages: hello, retryKey: randomUUID() });

    expect(outcome).toMatchObject({
      kind: 'invalid_request',
      retryable: false,
      detail: '400 Failed to send messages',
    });
  });
});

describe('quota endpoints', () => {
  test('when a fresh channel pushes once, then quota is unlimited and consumption goes from 0 to 1', async () => {
    const own = newToken();
    sim.addChannel({ accessToken: own, channelSecret: 's' });

    expect(await client.getQuota(own)).toMatchObject({ ok: true, value: { type: 'none' } });
    expect(await client.getQuotaConsumption(own)).toMatchObject({ ok: true, value: { totalUsage: 0 } });
    await client.push({ accessToken: own, to: randomUserId(), messages: hello, retryKey: randomUUID() });
    expect(await client.getQuotaConsumption(own)).toMatchObject({ ok: true, value: { totalUsage: 1 } });
  });

  test('when the token is unknown, then the quota read fails as unauthorized', async () => {
    const result = await client.getQuota(newToken());
    expect(result).toMatchObject({ ok: false, outcome: { kind: 'unauthorized', status: 401 } });
  });
});

describe('simulator request checks', () => {
  test('when the body is not JSON, then 400 with LINE parse message', async () => {
    const res = await fetch(`${sim.baseUrl}/v2/bot/message/push`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        'x-line-retry-key': randomUUID(),
      },
      body: '{"to":',
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ message: 'The request body could not be parsed as JSON' });
  });

  test('when the retry key is missing, then the simulator refuses it (our client must always send one)', async () => {
    const res = await fetch(`${sim.baseUrl}/v2/bot/message/push`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ to: randomUserId(), messages: hello }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ details: [{ property: 'X-Line-Retry-Key' }] });
  });

  test('when a push passes the simulator’s own checks but LINE’s OpenAPI description refuses it, then 400 and a recorded violation', async () => {
    const to = randomUserId();
    const before = sim.contractViolations().length;
    // quickReply is a common property our own validation lets through; the description says what it holds.
    const outcome = await client.push({
      accessToken: token,
      to,
      messages: [{ type: 'text', text: 'hi', quickReply: { items: 'none' } } as unknown as LineMessage],
      retryKey: randomUUID(),
    });
    expect(outcome).toMatchObject({ status: 400, retryable: false });
    expect(sim.pushes(to)).toHaveLength(0);
    const violations = sim.contractViolations().slice(before);
    expect(violations).toHaveLength(1);
    expect(violations[0]!.errors.join(' ')).toMatch(/quickReply\/items/);
  });

  test('when every push of this file was valid, then the description refused none but the one above', () => {
    expect(sim.contractViolations().map((v) => v.errors.some((e) => e.includes('quickReply')))).toEqual([
      true,
    ]);
  });
});

describe('webhook signatures', () => {
  const raw = JSON.stringify({ destination: randomUserId(), events: [lineUnfollowEvent(randomUserId())] });

  test.each<[string, () => boolean, boolean]>([
    [
      'when the body and secret match, then the signature verifies',
      () => verifySignature(secret, raw, signBody(secret, raw)),
      true,
    ],
    [
      'when the body is given as a Buffer, then the same signature verifies',
      () => verifySignature(secret, Buffer.from(raw), signBody(secret, raw)),
      true,
    ],
    [
      'when one byte of the body changed, then it does not verify',
      () => verifySignature(secret, raw.replace('unfollow', 'unfollaw'), signBody(secret, raw)),
      false,
    ],
    [
      'when signed with another secret, then it does not verify',
      () => verifySignature(secret, raw, signBody(`${secret}x`, raw)),
      false,
    ],
    [
      'when the header has the wrong length, then false without throwing',
      () => verifySignature(secret, raw, signBody(secret, raw).slice(0, -2)),
      false,
    ],
    ['when the header is empty, then false', () => verifySignature(secret, raw, ''), false],
    ['when the header is missing, then false', () => verifySignature(secret, raw, undefined), false],
    [
      'when the header is repeated, then false',
      () => verifySignature(secret, raw, [signBody(secret, raw), signBody(secret, raw)]),
      false,
    ],
  ])('%s', (_name, check, expected) => {
    expect(check()).toBe(expected);
  });

  test('when a signature is made, then it is Base64 of an HMAC-SHA256 (44 characters)', () => {
    expect(signBody('secret', 'body')).toMatch(/^[A-Za-z0-9+/]{43}=$/);
  });

  test('when a webhook body breaks LINE’s webhook description, then the simulator refuses to send it', async () => {
    const user = randomUserId();
    await expect(
      sendLineWebhook(
        'http://127.0.0.1:9/never',
        secret,
        [{ ...lineFollowEvent(user), timestamp: 'now' }],
        randomUserId(),
      ),
    ).rejects.toThrow(/webhook description: .*timestamp/);
    await expect(
      sendLineWebhook('http://127.0.0.1:9/never', secret, [lineFollowEvent(user)], 'not-a-bot-id'),
    ).rejects.toThrow(/destination/);
  });

  describe('end to end against a receiving server', () => {
    let receiver: Server;
    let url: string;
    const received: unknown[] = [];

    beforeAll(async () => {
      receiver = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const body = Buffer.concat(chunks);
          if (!verifySignature(secret, body, req.headers['x-line-signature'])) {
            res.writeHead(401).end();
            return;
          }
          const parsed = parseLineWebhook(body.toString('utf8'));
          received.push(parsed);
          res.writeHead(parsed.ok ? 200 : 400).end();
        });
      });
      await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/line`;
    });

    afterAll(async () => {
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    });

    test('when the simulator sends follow and unfollow events, then they verify and parse on the receiving side', async () => {
      const friend = randomUserId();
      const leaver = randomUserId();
      received.length = 0;

      const { status } = await sim.sendWebhook(url, secret, [
        lineFollowEvent(friend, { isUnblocked: true }),
        lineUnfollowEvent(leaver),
      ]);

      expect(status).toBe(200);
      expect(received).toEqual([
        {
          ok: true,
          webhook: {
            destination: expect.stringMatching(/^U[0-9a-f]{32}$/),
            ignoredEvents: 0,
            rejectedEvents: [],
            events: [
              expect.objectContaining({
                type: 'follow',
                userId: friend,
                isUnblocked: true,
                isRedelivery: false,
              }),
              expect.objectContaining({ type: 'unfollow', userId: leaver }),
            ],
          },
        },
      ]);
    });

    test('when the webhook is signed with another secret, then the receiver refuses it', async () => {
      const { status } = await sim.sendWebhook(url, `${secret}-other`, [lineUnfollowEvent(randomUserId())]);
      expect(status).toBe(401);
    });
  });
});
