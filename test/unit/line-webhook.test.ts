import { parseLineWebhook, readLineWebhook, type LineFriendshipEvent } from '../../domain/line-webhook';

const USER = 'U4af4980629a1b2c3d4e5f60718293a4b';
const BOT = 'Ub0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0';

function event(type: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type,
    timestamp: 1625665242214,
    source: { type: 'user', userId: USER },
    mode: 'active',
    webhookEventId: '01FZ74ASS536FW97EX38NKCZQK',
    deliveryContext: { isRedelivery: false },
    ...extra,
  };
}

const body = (events: unknown[], destination: unknown = BOT): string =>
  JSON.stringify({ destination, events });

describe('parseLineWebhook: friendship events', () => {
  const base = {
    userId: USER,
    timestamp: 1625665242214,
    webhookEventId: '01FZ74ASS536FW97EX38NKCZQK',
    isRedelivery: false,
    mode: 'active',
  };

  test.each<[string, Record<string, unknown>, LineFriendshipEvent]>([
    [
      'when a new friend follows, then a follow that is not an unblock',
      event('follow', { replyToken: 'r', follow: { isUnblocked: false } }),
      { type: 'follow', ...base, isUnblocked: false } as LineFriendshipEvent,
    ],
    [
      'when a user unblocks the account, then a follow marked as unblock',
      event('follow', { replyToken: 'r', follow: { isUnblocked: true } }),
      { type: 'follow', ...base, isUnblocked: true } as LineFriendshipEvent,
    ],
    [
      'when an older follow lacks the follow object, then isUnblocked is unknown (null)',
      event('follow'),
      { type: 'follow', ...base, isUnblocked: null } as LineFriendshipEvent,
    ],
    [
      'when a user blocks the account, then an unfollow',
      event('unfollow'),
      { type: 'unfollow', ...base } as LineFriendshipEvent,
    ],
    [
      'when LINE redelivers an event, then it is marked as a redelivery',
      event('unfollow', { deliveryContext: { isRedelivery: true } }),
      { type: 'unfollow', ...base, isRedelivery: true } as LineFriendshipEvent,
    ],
  ])('%s', (_name, e, expected) => {
    expect(parseLineWebhook(body([e]))).toEqual({
      ok: true,
      webhook: { destination: BOT, events: [expected], ignoredEvents: 0, rejectedEvents: [] },
    });
  });

  test('when message and postback events come with a follow, then they are counted as ignored and the follow is kept', () => {
    const parsed = parseLineWebhook(
      body([
        event('message', { message: { type: 'text', id: '1', text: 'hi' } }),
        event('follow', { follow: { isUnblocked: false } }),
        event('postback', { source: { type: 'group', groupId: 'C1' } }),
      ]),
    );
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.webhook.events.map((e) => e.type)).toEqual(['follow']);
    expect(parsed.webhook.ignoredEvents).toBe(2);
  });

  test('when LINE checks connectivity with no events, then an empty, valid webhook', () => {
    expect(parseLineWebhook(body([]))).toEqual({
      ok: true,
      webhook: { destination: BOT, events: [], ignoredEvents: 0, rejectedEvents: [] },
    });
  });

  test('when the body is already parsed, then readLineWebhook gives the same result', () => {
    const raw = body([event('unfollow')]);
    expect(readLineWebhook(JSON.parse(raw))).toEqual(parseLineWebhook(raw));
  });
});

describe('parseLineWebhook: malformed bodies give an error naming the place', () => {
  test.each<[string, string, RegExp]>([
    ['when the body is not JSON, then it says so', '{"destination":', /^body is not valid JSON/],
    ['when the body is an array, then an object is required', '[]', /^body: must be a JSON object/],
    [
      'when destination is missing, then it is required',
      JSON.stringify({ events: [] }),
      /^destination: is required/,
    ],
    [
      'when events is missing, then it is required',
      JSON.stringify({ destination: BOT }),
      /^events: is required and must be an array/,
    ],
  ])('%s', (_name, raw, error) => {
    const parsed = parseLineWebhook(raw);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.error).toMatch(error);
  });
});

describe('parseLineWebhook: a malformed event is rejected alone, naming the place, and the others are kept', () => {
  test.each<[string, string, RegExp]>([
    [
      'when an event is not an object, then its index is named',
      body([event('follow'), 7]),
      /^events\[1\]: must be an object/,
    ],
    [
      'when an event has no type, then it is required',
      body([{ timestamp: 1 }]),
      /^events\[0\]\.type: is required/,
    ],
    [
      'when a follow has no source, then it is required',
      body([event('follow', { source: undefined })]),
      /^events\[0\]\.source: is required/,
    ],
    [
      'when a follow comes from a group, then a user source is required',
      body([event('follow', { source: { type: 'group', groupId: 'C1' } })]),
      /^events\[0\]\.source\.type: must be "user"/,
    ],
    [
      'when a follow has no userId, then it is named',
      body([event('follow', { source: { type: 'user' } })]),
      /^events\[0\]\.source\.userId: must be a LINE user id/,
    ],
    [
      'when an unfollow userId is malformed, then it is named',
      body([event('unfollow', { source: { type: 'user', userId: 'U123' } })]),
      /^events\[0\]\.source\.userId/,
    ],
    [
      'when a timestamp is a string, then a number is required',
      body([event('unfollow', { timestamp: '1625665242214' })]),
      /^events\[0\]\.timestamp: is required and must be a number/,
    ],
    [
      'when a timestamp is beyond what a date can hold, then it is refused',
      body([event('unfollow', { timestamp: 1e20 })]),
      /^events\[0\]\.timestamp: is required and must be a number/,
    ],
    [
      'when a timestamp has a fraction, then whole ms are required',
      body([event('unfollow', { timestamp: 1625665242214.5 })]),
      /^events\[0\]\.timestamp: is required and must be a number/,
    ],
    [
      'when webhookEventId carries a control character, then it is refused',
      body([event('unfollow', { webhookEventId: '01FZ\u0000' })]),
      /^events\[0\]\.webhookEventId: is required and must be 1 to 128 printable ASCII/,
    ],
    [
      'when webhookEventId is missing, then it is required',
      body([event('unfollow', { webhookEventId: undefined })]),
      /^events\[0\]\.webhookEventId: is required/,
    ],
    [
      'when isUnblocked is a string, then a boolean is required',
      body([event('follow', { follow: { isUnblocked: 'true' } })]),
      /^events\[0\]\.follow\.isUnblocked: must be a boolean/,
    ],
    [
      'when isRedelivery is missing from deliveryContext, then a boolean is required',
      body([event('unfollow', { deliveryContext: {} })]),
      /^events\[0\]\.deliveryContext\.isRedelivery: must be a boolean/,
    ],
    [
      'when mode is unknown, then the values are named',
      body([event('unfollow', { mode: 'sleeping' })]),
      /^events\[0\]\.mode: must be "active" or "standby"/,
    ],
  ])('%s', (_name, raw, error) => {
    const parsed = parseLineWebhook(raw);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    const { rejectedEvents } = parsed.webhook;
    expect(rejectedEvents).toHaveLength(1);
    expect(rejectedEvents[0]!.reason).toMatch(error);
    expect(rejectedEvents[0]!.event).toEqual(JSON.parse(raw).events[rejectedEvents[0]!.index]);
  });

  test('when a body holds valid events around a malformed one, then the valid ones are read in order', () => {
    const good = [event('follow'), event('unfollow', { webhookEventId: '01GOODEVENT' })];
    const bad = event('unfollow', { timestamp: 'yesterday', webhookEventId: '01BADEVENT' });
    const parsed = parseLineWebhook(body([good[0], bad, good[1]]));
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.webhook.events.map((e) => e.type)).toEqual(['follow', 'unfollow']);
    expect(parsed.webhook.rejectedEvents).toEqual([
      {
        index: 1,
        reason: expect.stringMatching(/^events\[1\]\.timestamp/),
        event: bad,
        webhookEventId: '01BADEVENT',
      },
    ]);
  });
});
