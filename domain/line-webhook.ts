// Parsing of LINE webhook bodies down to what the product needs: friendship changes (SPEC §1 lead friend status,
// SPEC §7 "blocked the account after befriending it"). LINE drops pushes to a user who blocked the account without
// an error, so the unfollow event is the only place that fact arrives. Other event types are counted and ignored.
// Verify the signature on the raw bytes before parsing (channels/line-signature.ts).
// Pure: safe to import from workflow code.

export interface LineFriendshipEventBase {
  userId: string;
  /** When the event happened (ms since epoch); a redelivered event keeps its original time. */
  timestamp: number;
  /** ULID, unique per event: the key that makes a redelivery harmless. */
  webhookEventId: string;
  isRedelivery: boolean;
  mode: 'active' | 'standby' | null;
}

export interface LineFollowEvent extends LineFriendshipEventBase {
  type: 'follow';
  /** true: the user unblocked the account; false: a new friend; null: LINE did not say (older payloads). */
  isUnblocked: boolean | null;
}

export interface LineUnfollowEvent extends LineFriendshipEventBase {
  type: 'unfollow';
}

export type LineFriendshipEvent = LineFollowEvent | LineUnfollowEvent;

/** An event of the body that could not be read: kept with the reason, the other events are applied. */
export interface LineRejectedEvent {
  /** Its position in the body's events. */
  index: number;
  /** 'events[2].timestamp: is required and must be …'. */
  reason: string;
  /** The event as received (whatever JSON it was). */
  event: unknown;
  /** Its webhookEventId when that much is readable, so a redelivery of it is recorded once. */
  webhookEventId: string | null;
}

export interface LineWebhook {
  /** The bot's user id the events are for: tells which official account they belong to. */
  destination: string;
  /** Follow and unfollow events from users, in body order. */
  events: LineFriendshipEvent[];
  /** Events of other types (message, postback, join…), not handled here. An empty body is LINE's connectivity check. */
  ignoredEvents: number;
  /**
   * Malformed events. One bad event does not refuse the body: LINE does not send a refused body again, so its
   * valid events would be lost (issue 21 item 6).
   */
  rejectedEvents: LineRejectedEvent[];
}

export type LineWebhookParse = { ok: true; webhook: LineWebhook } | { ok: false; error: string };

const USER_ID = /^U[0-9a-f]{32}$/;
/** LINE sends ULIDs; anything printable and short is kept (it is a database key), nothing else. */
const WEBHOOK_EVENT_ID = /^[\x21-\x7e]{1,128}$/;
/** The latest instant a JavaScript Date (and PostgreSQL's timestamptz) holds, in ms since epoch. */
const MAX_TIMESTAMP_MS = 8.64e15;

/**
 * The friend status a friendship event means. Each event is applied once (by its webhookEventId) and a user's
 * status is the one of its latest event by `timestamp` (ties: the greater webhookEventId, a ULID), so a replayed or
 * late redelivered unfollow never outweighs a later follow (db/line-webhook-queries.ts).
 */
export function friendStatusAfter(event: Pick<LineFriendshipEvent, 'type'>): 'friend' | 'blocked' {
  return event.type === 'follow' ? 'friend' : 'blocked';
}

export function parseLineWebhook(rawBody: string): LineWebhookParse {
  let body: unknown;
  try {
    body = JSON.parse(rawBody);
  } catch (err) {
    return { ok: false, error: `body is not valid JSON: ${(err as Error).message}` };
  }
  return readLineWebhook(body);
}

/** For a body already parsed as JSON. */
export function readLineWebhook(body: unknown): LineWebhookParse {
  if (!isRecord(body)) return fail('body', 'must be a JSON object');
  if (typeof body.destination !== 'string' || body.destination.length === 0) {
    return fail('destination', 'is required and must be a non-empty string');
  }
  if (!Array.isArray(body.events)) return fail('events', 'is required and must be an array');

  const events: LineFriendshipEvent[] = [];
  const rejectedEvents: LineRejectedEvent[] = [];
  let ignoredEvents = 0;
  for (const [i, e] of body.events.entries()) {
    const path = `events[${i}]`;
    const reject = (failure: { error: string }): void => {
      const id = isRecord(e) ? e.webhookEventId : undefined;
      rejectedEvents.push({
        index: i,
        reason: failure.error,
        event: e,
        webhookEventId: typeof id === 'string' && WEBHOOK_EVENT_ID.test(id) ? id : null,
      });
    };
    if (!isRecord(e)) {
      reject(fail(path, 'must be an object'));
      continue;
    }
    if (typeof e.type !== 'string') {
      reject(fail(`${path}.type`, 'is required and must be a string'));
      continue;
    }
    if (e.type !== 'follow' && e.type !== 'unfollow') {
      ignoredEvents++;
      continue;
    }
    const read = readFriendshipEvent(e, e.type, path);
    if (read.ok) events.push(read.event);
    else reject(read);
  }
  return { ok: true, webhook: { destination: body.destination, events, ignoredEvents, rejectedEvents } };
}

function readFriendshipEvent(
  e: Record<string, unknown>,
  type: 'follow' | 'unfollow',
  path: string,
): { ok: true; event: LineFriendshipEvent } | { ok: false; error: string } {
  const source = e.source;
  if (!isRecord(source)) return fail(`${path}.source`, 'is required and must be an object');
  // Follow and unfollow only ever come from one-to-one chats.
  if (source.type !== 'user') return fail(`${path}.source.type`, `must be "user" for a ${type} event`);
  if (typeof source.userId !== 'string' || !USER_ID.test(source.userId)) {
    return fail(`${path}.source.userId`, 'must be a LINE user id (U followed by 32 lower-case hex digits)');
  }
  if (
    typeof e.timestamp !== 'number' ||
    !Number.isSafeInteger(e.timestamp) ||
    e.timestamp < 0 ||
    e.timestamp > MAX_TIMESTAMP_MS
  ) {
    return fail(
      `${path}.timestamp`,
      'is required and must be a number: whole ms since epoch, from 0 to 8.64e15',
    );
  }
  if (typeof e.webhookEventId !== 'string' || !WEBHOOK_EVENT_ID.test(e.webhookEventId)) {
    return fail(
      `${path}.webhookEventId`,
      'is required and must be 1 to 128 printable ASCII characters (LINE sends a ULID)',
    );
  }
  let isRedelivery = false;
  if (e.deliveryContext !== undefined) {
    if (!isRecord(e.deliveryContext) || typeof e.deliveryContext.isRedelivery !== 'boolean') {
      return fail(`${path}.deliveryContext.isRedelivery`, 'must be a boolean');
    }
    isRedelivery = e.deliveryContext.isRedelivery;
  }
  let mode: 'active' | 'standby' | null = null;
  if (e.mode !== undefined) {
    if (e.mode !== 'active' && e.mode !== 'standby')
      return fail(`${path}.mode`, 'must be "active" or "standby"');
    mode = e.mode;
  }
  const base = {
    userId: source.userId,
    timestamp: e.timestamp,
    webhookEventId: e.webhookEventId,
    isRedelivery,
    mode,
  };
  if (type === 'unfollow') return { ok: true, event: { type, ...base } };

  let isUnblocked: boolean | null = null;
  if (e.follow !== undefined) {
    if (!isRecord(e.follow) || typeof e.follow.isUnblocked !== 'boolean') {
      return fail(`${path}.follow.isUnblocked`, 'must be a boolean');
    }
    isUnblocked = e.follow.isUnblocked;
  }
  return { ok: true, event: { type, ...base, isUnblocked } };
}

function fail(path: string, message: string): { ok: false; error: string } {
  return { ok: false, error: `${path}: ${message}` };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
