// Local LINE Messaging API for `npm start` and the integration tests: a real HTTP server that answers the push and
// quota endpoints the way LINE does — including its 400 body `{message, details[{message, property}]}`, the 409 on a
// reused retry key, the two kinds of 429 — records what it accepts, and can be scripted per user id to fail.
//
// Every request is first checked against LINE's official OpenAPI description (dev/line-openapi/
// messaging-api.yml, through dev/line-openapi.ts: path, headers, body); a request it refuses is answered 400 with
// the validator's findings as LINE's `details`, and kept in contractViolations() for tests to assert on. Message
// objects are then checked with domain/line-messages.ts, the product's own copy of the limits LINE enforces beyond
// the schema (text length, emoji indexes on a '$', https URLs…), so the simulator and template validation cannot
// disagree about them.
//
// Recipients can also be scripted through their user id, so a run started through the REST API (where a test
// cannot call script()) still hits failures. User ids are 'U' + 32 hex digits; the prefix decides, the rest is
// free. An explicit script() for the user wins.
//
//   user id prefix   behaviour
//   ---------------  --------------------------------------------------------------------------------------
//   Ub10cced...      blocked: answered 200 but not delivered (LINE drops pushes to users who blocked us)
//   U429429...       first attempt 429 "Too many requests", accepted afterwards
//   U500500...       first attempt accepted, then answered 500 (the answer is "lost"): a retry with the same
//                    key gets 409, a retry with a new key would deliver twice
//   Udeadbeef...     400 "Failed to send messages" (no such user)
//
// An "attempt" is one valid push request for the user that reached the scripted stage; counters reset on script()
// and clearScripts(). Monthly quota: every push counts one message (up to 5 bubbles are one message), pushes to
// blocked users count none; when the count reaches the quota every push is answered the monthly-limit 429.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { validateLineMessages } from '../domain/line-messages';
import { signBody } from '../channels/line-signature';
import { messagingApiContract, webhookContract, type OpenApiContract } from './line-openapi';

export type LineSimBehaviour =
  | { kind: 'accept' }
  /** 429 "Too many requests" on the next `times` attempts. */
  | { kind: 'rate-limit'; times: number; retryAfterSeconds?: number }
  /** 429 "You have reached your monthly limit." on every attempt. */
  | { kind: 'monthly-limit' }
  /** 5xx on the next `times` attempts; with acceptedBeforeError the push is recorded first, as when LINE accepted
   * it and the answer was lost. */
  | { kind: 'server-error'; times: number; status?: number; acceptedBeforeError?: boolean }
  /** 200, recorded as not delivered. */
  | { kind: 'blocked' }
  /** 400 "Failed to send messages". */
  | { kind: 'unknown-user' }
  /** Accepted (recorded at once), answered after delayMs: for client timeouts. */
  | { kind: 'slow'; delayMs: number; times?: number };

export interface LineSimChannelOptions {
  accessToken: string;
  channelSecret: string;
  /** The bot's user id, the `destination` of its webhooks; random when omitted. */
  destination?: string;
  /** Overrides setMonthlyQuota() for this channel; null = unlimited. */
  monthlyQuota?: number | null;
}

export interface LineSimChannel {
  destination: string;
  channelSecret: string;
}

export interface RecordedLinePush {
  requestId: string;
  retryKey: string | null;
  /** The channel's destination (bot user id): identifies the channel without its token. */
  channel: string;
  to: string;
  messages: unknown[];
  notificationDisabled: boolean;
  /** false when the user blocked the account: LINE accepted the push and dropped it. */
  delivered: boolean;
  sentMessageIds: string[];
  acceptedAt: Date;
}

export interface LineSimRequest {
  method: string;
  path: string;
  status: number;
  to: string | null;
  retryKey: string | null;
  requestId: string;
}

export interface LineSimulatorOptions {
  /** 0 = random free port. */
  port?: number;
  host?: string;
  logger?: (line: string) => void;
  /** How many of the most recent pushes and requests to keep. */
  keep?: number;
  /** LINE accepts a push without X-Line-Retry-Key; our client must always send one, so by default this is a 400. */
  requireRetryKey?: boolean;
  /** Largest body accepted, LINE's documented 2 MB by default. */
  maxBodyBytes?: number;
  /** Check requests against LINE's OpenAPI description (default true). */
  contract?: boolean;
}

/** A request LINE's OpenAPI description refuses. */
export interface LineContractViolation {
  method: string;
  path: string;
  errors: string[];
}

interface ChannelState {
  accessToken: string;
  channelSecret: string;
  destination: string;
  monthlyQuota: number | null | undefined;
  usage: number;
  /** Accepted retry key → the request id that was accepted. */
  acceptedKeys: Map<string, string>;
}

const USER_ID = /^U[0-9a-f]{32}$/;
const KNOWN_ROUTES = new Set([
  'POST /v2/bot/message/push',
  'GET /v2/bot/message/quota',
  'GET /v2/bot/message/quota/consumption',
]);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const CONVENTIONS: ReadonlyArray<{ prefix: string; behaviour: LineSimBehaviour }> = [
  { prefix: 'Ub10cced', behaviour: { kind: 'blocked' } },
  { prefix: 'U429429', behaviour: { kind: 'rate-limit', times: 1 } },
  { prefix: 'U500500', behaviour: { kind: 'server-error', times: 1, acceptedBeforeError: true } },
  { prefix: 'Udeadbeef', behaviour: { kind: 'unknown-user' } },
];

class HttpFailure extends Error {
  constructor(
    readonly status: number,
    readonly body: { message: string; details?: Array<{ message: string; property: string }> },
  ) {
    super(body.message);
  }
}

export class LineSimulator {
  private server: Server | null = null;
  private readonly channels = new Map<string, ChannelState>();
  private readonly scripts = new Map<string, LineSimBehaviour>();
  /** Attempts per user since its script was set (or since clearScripts for conventions). */
  private readonly attempts = new Map<string, number>();
  private readonly pushLog: RecordedLinePush[] = [];
  private readonly requestLog: LineSimRequest[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private defaultQuota: number | null = null;
  private nextMessageId = 600_000_000_000_000_000n;
  private url: string | null = null;
  private contract: OpenApiContract | null = null;
  private readonly violations: LineContractViolation[] = [];

  constructor(private readonly opts: LineSimulatorOptions = {}) {}

  addChannel(options: LineSimChannelOptions): LineSimChannel {
    if (!options.accessToken || !options.channelSecret)
      throw new Error('a channel needs an access token and a channel secret');
    const destination = options.destination ?? randomUserId();
    this.channels.set(options.accessToken, {
      accessToken: options.accessToken,
      channelSecret: options.channelSecret,
      destination,
      monthlyQuota: options.monthlyQuota,
      usage: 0,
      acceptedKeys: new Map(),
    });
    return { destination, channelSecret: options.channelSecret };
  }

  script(userId: string, behaviour: LineSimBehaviour): void {
    this.scripts.set(userId, behaviour);
    this.attempts.delete(userId);
  }

  clearScripts(): void {
    this.scripts.clear();
    this.attempts.clear();
  }

  /** Monthly message quota of every channel without its own; null = unlimited. */
  setMonthlyQuota(quota: number | null): void {
    if (quota !== null && (!Number.isInteger(quota) || quota < 0))
      throw new Error(`quota must be a non-negative integer, got ${quota}`);
    this.defaultQuota = quota;
  }

  /** Accepted pushes, oldest first, optionally for one recipient. */
  pushes(to?: string): RecordedLinePush[] {
    return to === undefined ? [...this.pushLog] : this.pushLog.filter((p) => p.to === to);
  }

  /** Every request answered, oldest first, optionally for one recipient. */
  requests(to?: string): LineSimRequest[] {
    return to === undefined ? [...this.requestLog] : this.requestLog.filter((r) => r.to === to);
  }

  /** Messages counted this "month" for the channel of the given token. */
  usage(accessToken: string): number {
    return this.channels.get(accessToken)?.usage ?? 0;
  }

  /** Requests the official description refused, oldest first (each also answered 400). */
  contractViolations(): LineContractViolation[] {
    return [...this.violations];
  }

  get baseUrl(): string {
    if (this.url === null) throw new Error('LINE simulator is not started');
    return this.url;
  }

  async start(): Promise<{ port: number; baseUrl: string }> {
    if (this.server) throw new Error('LINE simulator already started');
    if (this.opts.contract !== false) this.contract = await messagingApiContract();
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        this.log(`internal error: ${(err as Error).message}`);
        if (!res.headersSent) send(res, 500, { message: 'Internal server error' });
      });
    });
    this.server = server;
    const host = this.opts.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    this.url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    return { port, baseUrl: this.url };
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const server = this.server;
    if (!server) return;
    this.server = null;
    this.url = null;
    await new Promise<void>((resolve, reject) => {
      server.close((err) => (err ? reject(err) : resolve()));
      server.closeAllConnections();
    });
  }

  /** Posts a signed webhook for this simulator's channel with the given secret (see sendLineWebhook). */
  sendWebhook(
    url: string,
    channelSecret: string,
    events: readonly object[],
  ): Promise<{ status: number; body: string }> {
    const channel = [...this.channels.values()].find((c) => c.channelSecret === channelSecret);
    return sendLineWebhook(url, channelSecret, events, channel?.destination ?? randomUserId());
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    res.setHeader('x-line-request-id', requestId);
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const entry: LineSimRequest = {
      method: req.method ?? '',
      path,
      status: 0,
      to: null,
      retryKey: null,
      requestId,
    };
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      entry.status = status;
      this.record(this.requestLog, entry);
      this.log(`${entry.method} ${path}${entry.to ? ` to=${entry.to}` : ''} -> ${status}`);
      send(res, status, body, headers);
    };
    try {
      const route = `${req.method ?? ''} ${path}`;
      if (!KNOWN_ROUTES.has(route)) {
        answer(404, { message: 'Not found' });
        return;
      }
      // LINE authenticates before it reads the body.
      this.authenticate(req);
      const body = req.method === 'POST' ? await this.readJson(req) : undefined;
      // A push is checked against the description after the simulator's own checks, whose details name the
      // property as LINE does; anything they miss and the description refuses is still a 400.
      if (route !== 'POST /v2/bot/message/push') this.checkContract(req, path, body);
      if (route === 'POST /v2/bot/message/push') {
        await this.push(req, body!, requestId, entry, answer);
      } else if (route === 'GET /v2/bot/message/quota') {
        const channel = this.authenticate(req);
        const quota = this.quotaOf(channel);
        answer(200, quota === null ? { type: 'none' } : { type: 'limited', value: quota });
      } else if (route === 'GET /v2/bot/message/quota/consumption') {
        answer(200, { totalUsage: this.authenticate(req).usage });
      } else {
        answer(404, { message: 'Not found' });
      }
    } catch (err) {
      if (!(err instanceof HttpFailure)) throw err;
      answer(err.status, err.body);
    }
  }

  private async push(
    req: IncomingMessage,
    body: Record<string, unknown>,
    requestId: string,
    entry: LineSimRequest,
    answer: (status: number, body: unknown, headers?: Record<string, string>) => void,
  ): Promise<void> {
    const channel = this.authenticate(req);
    const to = typeof body.to === 'string' ? body.to : null;
    entry.to = to;

    const retryKeyHeader = req.headers['x-line-retry-key'];
    const retryKey = typeof retryKeyHeader === 'string' ? retryKeyHeader : null;
    entry.retryKey = retryKey;
    if (retryKey === null && this.opts.requireRetryKey !== false) {
      throw badRequest([
        {
          property: 'X-Line-Retry-Key',
          message: 'required by this simulator: the client must send a retry key',
        },
      ]);
    }
    if (retryKey !== null && !UUID.test(retryKey)) {
      throw badRequest([{ property: 'X-Line-Retry-Key', message: 'must be a UUID in hexadecimal notation' }]);
    }

    const details: Array<{ message: string; property: string }> = [];
    if (to === null) details.push({ property: 'to', message: 'May not be empty' });
    else if (!USER_ID.test(to))
      details.push({ property: 'to', message: "Must be a user id: 'U' followed by 32 hex digits" });
    const check = validateLineMessages(body.messages, 'messages');
    if (!check.ok) details.push(...check.errors.map((e) => ({ property: e.path, message: e.message })));
    if (body.notificationDisabled !== undefined && typeof body.notificationDisabled !== 'boolean') {
      details.push({ property: 'notificationDisabled', message: 'Must be a boolean' });
    }
    if (details.length > 0) throw badRequest(details);
    this.checkContract(req, entry.path, body);
    const user = to as string;
    const messages = body.messages as unknown[];

    // Idempotency comes before every other rule: the earlier request was valid and already counted.
    if (retryKey !== null) {
      const accepted = channel.acceptedKeys.get(retryKey);
      if (accepted !== undefined) {
        answer(
          409,
          { message: 'The retry key is already accepted' },
          { 'x-line-accepted-request-id': accepted },
        );
        return;
      }
    }
    const quota = this.quotaOf(channel);
    if (quota !== null && channel.usage >= quota) {
      answer(429, { message: 'You have reached your monthly limit.' });
      return;
    }

    const behaviour = this.behaviourFor(user);
    const attempt = (this.attempts.get(user) ?? 0) + 1;
    this.attempts.set(user, attempt);
    const accept = (delivered: boolean): RecordedLinePush => {
      const push: RecordedLinePush = {
        requestId,
        retryKey,
        channel: channel.destination,
        to: user,
        messages,
        notificationDisabled: body.notificationDisabled === true,
        delivered,
        sentMessageIds: messages.map(() => String(this.nextMessageId++)),
        acceptedAt: new Date(),
      };
      if (retryKey !== null) channel.acceptedKeys.set(retryKey, requestId);
      if (delivered) channel.usage++;
      this.record(this.pushLog, push);
      return push;
    };
    const sentBody = (p: RecordedLinePush) => ({
      sentMessages: p.sentMessageIds.map((id) => ({ id, quoteToken: randomBytes(12).toString('base64url') })),
    });

    switch (behaviour.kind) {
      case 'rate-limit':
        if (attempt <= behaviour.times) {
          const headers: Record<string, string> =
            behaviour.retryAfterSeconds === undefined
              ? {}
              : { 'retry-after': String(behaviour.retryAfterSeconds) };
          answer(429, { message: 'Too many requests' }, headers);
          return;
        }
        break;
      case 'monthly-limit':
        answer(429, { message: 'You have reached your monthly limit.' });
        return;
      case 'server-error':
        if (attempt <= behaviour.times) {
          if (behaviour.acceptedBeforeError) accept(true);
          answer(behaviour.status ?? 500, { message: 'Internal server error' });
          return;
        }
        break;
      case 'unknown-user':
        answer(400, { message: 'Failed to send messages' });
        return;
      case 'blocked':
        answer(200, sentBody(accept(false)));
        return;
      case 'slow':
        if (behaviour.times === undefined || attempt <= behaviour.times) {
          const push = accept(true);
          await new Promise<void>((resolve) => {
            const t = setTimeout(() => {
              this.timers.delete(t);
              resolve();
            }, behaviour.delayMs);
            this.timers.add(t);
          });
          // The client may have given up meanwhile: answering a closed socket is harmless and keeps the log whole.
          answer(200, sentBody(push));
          return;
        }
        break;
      case 'accept':
        break;
    }
    answer(200, sentBody(accept(true)));
  }

  /** Throws LINE's 400 when the official description refuses the request, and keeps it as a violation. */
  private checkContract(req: IncomingMessage, path: string, body: unknown): void {
    if (!this.contract) return;
    const check = this.contract.check({ method: req.method ?? '', path, headers: req.headers, body });
    if (check.valid) return;
    const errors = [...new Set(check.errors)].slice(0, 20);
    this.violations.push({ method: req.method ?? '', path, errors });
    this.log(`${req.method ?? ''} ${path} refused by LINE's OpenAPI description: ${errors.join('; ')}`);
    throw badRequest(errors.map((e) => ({ property: linePropertyPath(e.split(':')[0] ?? ''), message: e })));
  }

  private authenticate(req: IncomingMessage): ChannelState {
    const header = req.headers.authorization;
    if (header === undefined) {
      throw new HttpFailure(401, {
        message:
          "Authorization header required. Must follow the scheme, 'Authorization: Bearer <ACCESS TOKEN>'",
      });
    }
    const match = /^Bearer (\S+)$/.exec(header);
    const channel = match?.[1] === undefined ? undefined : this.channels.get(match[1]);
    if (channel === undefined) {
      throw new HttpFailure(401, {
        message:
          'Authentication failed due to the following reason: invalid token. Confirm that the access token in the authorization header is valid.',
      });
    }
    return channel;
  }

  private async readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    if (type !== 'application/json') {
      throw new HttpFailure(400, { message: `The content type, ${type || '(none)'}, is not supported` });
    }
    const max = this.opts.maxBodyBytes ?? 2 * 1024 * 1024;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      const buf = chunk as Buffer;
      size += buf.length;
      if (size > max) throw new HttpFailure(413, { message: 'Request exceeds the max size of 2MB' });
      chunks.push(buf);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      throw new HttpFailure(400, { message: 'The request body could not be parsed as JSON' });
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new HttpFailure(400, { message: 'The request body could not be parsed as JSON: not an object' });
    }
    return parsed as Record<string, unknown>;
  }

  private behaviourFor(userId: string): LineSimBehaviour {
    const scripted = this.scripts.get(userId);
    if (scripted) return scripted;
    return CONVENTIONS.find((c) => userId.startsWith(c.prefix))?.behaviour ?? { kind: 'accept' };
  }

  private quotaOf(channel: ChannelState): number | null {
    return channel.monthlyQuota !== undefined ? channel.monthlyQuota : this.defaultQuota;
  }

  private record<T>(list: T[], item: T): void {
    list.push(item);
    const keep = this.opts.keep;
    if (keep !== undefined && list.length > keep) list.splice(0, list.length - keep);
  }

  private log(line: string): void {
    this.opts.logger?.(line);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Webhooks, as the LINE Platform sends them to our API.

export interface LineSimEventOptions {
  timestamp?: number;
  isRedelivery?: boolean;
  webhookEventId?: string;
}

export function lineFollowEvent(
  userId: string,
  opts: LineSimEventOptions & { isUnblocked?: boolean } = {},
): object {
  return {
    type: 'follow',
    timestamp: opts.timestamp ?? Date.now(),
    source: { type: 'user', userId },
    replyToken: randomBytes(16).toString('hex'),
    mode: 'active',
    webhookEventId: opts.webhookEventId ?? newUlid(),
    deliveryContext: { isRedelivery: opts.isRedelivery ?? false },
    follow: { isUnblocked: opts.isUnblocked ?? false },
  };
}

/** Unfollow carries no reply token: there is no one to reply to. */
export function lineUnfollowEvent(userId: string, opts: LineSimEventOptions = {}): object {
  return {
    type: 'unfollow',
    timestamp: opts.timestamp ?? Date.now(),
    source: { type: 'user', userId },
    mode: 'active',
    webhookEventId: opts.webhookEventId ?? newUlid(),
    deliveryContext: { isRedelivery: opts.isRedelivery ?? false },
  };
}

/**
 * POSTs `{destination, events}` to `url`, signed with the channel secret like LINE signs it. The body is first
 * checked against LINE's webhook description (dev/line-openapi/webhook.yml): a body LINE could not send
 * throws, so a test cannot pass on events LINE would never produce. A test that sends malformed events on purpose
 * posts its own bytes.
 */
export async function sendLineWebhook(
  url: string,
  channelSecret: string,
  events: readonly object[],
  destination: string,
): Promise<{ status: number; body: string }> {
  const payload = { destination, events };
  const check = (await webhookContract()).check({
    method: 'POST',
    path: '/callback',
    headers: { 'content-type': 'application/json' },
    body: payload,
  });
  if (!check.valid) {
    throw new Error(
      `webhook body refused by LINE's webhook description: ${[...new Set(check.errors)].slice(0, 10).join('; ')}`,
    );
  }
  const raw = JSON.stringify(payload);
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'x-line-signature': signBody(channelSecret, raw),
    },
    body: raw,
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, body: await res.text() };
}

export function randomUserId(): string {
  return `U${randomBytes(16).toString('hex')}`;
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A ULID (what LINE's webhookEventId is): 48-bit time, then 80 random bits, in Crockford base 32. */
function newUlid(now = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD.charAt(t % 32) + time;
    t = Math.floor(t / 32);
  }
  const rand = [...randomBytes(16)].map((b) => CROCKFORD.charAt(b % 32)).join('');
  return time + rand;
}

/** '/requestBody/messages/0/type' → 'messages[0].type', LINE's notation in its 400 details. */
function linePropertyPath(pointer: string): string {
  const parts = pointer.split('/').filter((p) => p.length > 0);
  if (parts[0] === 'requestBody' || parts[0] === 'header' || parts[0] === 'query') parts.shift();
  return parts.reduce((out, p) => (/^\d+$/.test(p) ? `${out}[${p}]` : out ? `${out}.${p}` : p), '');
}

function badRequest(details: Array<{ message: string; property: string }>): HttpFailure {
  return new HttpFailure(400, { message: `The request body has ${details.length} error(s)`, details });
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const raw = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(raw),
    ...headers,
  });
  res.end(raw);
}
