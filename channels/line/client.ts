// The LINE transport: a thin client of the Messaging API over Node's fetch. It pushes one request and returns a
// classified outcome (domain/line-outcome.ts); it decides no policy (retries, stopping a run on the monthly limit,
// friend status) — that is domain/ and the workflow's business.
//
// The caller owns the retry key: one UUID per (send, recipient), reused on every attempt, so that an attempt whose
// answer was lost (5xx, timeout) and then repeated is delivered once and answered 409 — which counts as sent.
// The access token goes into the Authorization header and nowhere else: no log line, detail or error carries it.
import {
  classifyLinePushResponse,
  classifyLineTransportFailure,
  type LineHttpResponse,
  type LinePushOutcome,
} from '../../domain/line-outcome';
import type { LineMessage } from '../../domain/line-messages';

export interface LineClientOptions {
  /** 'https://api.line.me' in production; the simulator's URL in development and tests. */
  baseUrl: string;
  /** Per request, body included. A stalled API must not hold a batch forever. */
  timeoutMs: number;
}

export interface LinePushRequest {
  accessToken: string;
  /** The recipient's user id: 'U' + 32 hex digits. */
  to: string;
  /** 1 to 5 message objects; validated at template time (domain/line-messages.ts), not here. */
  messages: readonly LineMessage[];
  /** A UUID, the same on every attempt of this push. */
  retryKey: string;
  notificationDisabled?: boolean;
}

export type LinePushResult = LinePushOutcome;

export type LineQuota = { type: 'none' } | { type: 'limited'; value: number };

export interface LineQuotaConsumption {
  /** Messages counted against this month's quota so far. */
  totalUsage: number;
}

/** A read from the API: the value, or the failure classified like a push's. */
export type LineApiResult<T> =
  { ok: true; value: T; requestId: string | null } | { ok: false; outcome: LinePushOutcome };

export interface LineClient {
  push(request: LinePushRequest): Promise<LinePushResult>;
  getQuota(accessToken: string): Promise<LineApiResult<LineQuota>>;
  getQuotaConsumption(accessToken: string): Promise<LineApiResult<LineQuotaConsumption>>;
}

export const LINE_API_BASE_URL = 'https://api.line.me';

export function createLineClient(opts: LineClientOptions): LineClient {
  const base = new URL(opts.baseUrl);
  if (base.protocol !== 'https:' && base.protocol !== 'http:') {
    throw new Error(`LINE base URL must be http:// or https://, got ${base.protocol}`);
  }
  if (!Number.isFinite(opts.timeoutMs) || opts.timeoutMs <= 0) {
    throw new Error(`LINE timeoutMs must be a positive number, got ${opts.timeoutMs}`);
  }
  const baseUrl = base.href.replace(/\/+$/, '');

  async function call(
    method: 'GET' | 'POST',
    path: string,
    accessToken: string,
    extraHeaders: Record<string, string>,
    body?: unknown,
  ): Promise<{ ok: true; response: LineHttpResponse } | { ok: false; outcome: LinePushOutcome }> {
    const headers: Record<string, string> = { Authorization: `Bearer ${accessToken}`, ...extraHeaders };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    try {
      const res = await fetch(`${baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(opts.timeoutMs),
        redirect: 'manual',
      });
      const text = await res.text();
      return {
        ok: true,
        response: {
          status: res.status,
          body: parseJson(text),
          headers: {
            'x-line-request-id': res.headers.get('x-line-request-id') ?? undefined,
            'x-line-accepted-request-id': res.headers.get('x-line-accepted-request-id') ?? undefined,
            'retry-after': res.headers.get('retry-after') ?? undefined,
          },
        },
      };
    } catch (err) {
      return {
        ok: false,
        outcome: classifyLineTransportFailure(describeFailure(err, accessToken, opts.timeoutMs)),
      };
    }
  }

  async function read<T>(
    path: string,
    accessToken: string,
    pick: (body: unknown) => T | null,
  ): Promise<LineApiResult<T>> {
    const r = await call('GET', path, accessToken, {});
    if (!r.ok) return r;
    const outcome = classifyLinePushResponse(r.response);
    if (outcome.kind !== 'sent') return { ok: false, outcome };
    const value = pick(r.response.body);
    if (value === null) {
      return {
        ok: false,
        outcome: {
          ...outcome,
          kind: 'unexpected_status',
          result: 'error',
          detail: `unreadable answer from GET ${path}`,
        },
      };
    }
    return { ok: true, value, requestId: outcome.requestId };
  }

  return {
    async push(request) {
      const body: Record<string, unknown> = { to: request.to, messages: request.messages };
      if (request.notificationDisabled !== undefined)
        body.notificationDisabled = request.notificationDisabled;
      const r = await call(
        'POST',
        '/v2/bot/message/push',
        request.accessToken,
        { 'X-Line-Retry-Key': request.retryKey },
        body,
      );
      return r.ok ? classifyLinePushResponse(r.response) : r.outcome;
    },

    getQuota(accessToken) {
      return read('/v2/bot/message/quota', accessToken, (b): LineQuota | null => {
        if (!isRecord(b)) return null;
        if (b.type === 'none') return { type: 'none' };
        if (b.type === 'limited' && typeof b.value === 'number') return { type: 'limited', value: b.value };
        return null;
      });
    },

    getQuotaConsumption(accessToken) {
      return read('/v2/bot/message/quota/consumption', accessToken, (b): LineQuotaConsumption | null =>
        isRecord(b) && typeof b.totalUsage === 'number' ? { totalUsage: b.totalUsage } : null,
      );
    },
  };
}

function describeFailure(
  err: unknown,
  accessToken: string,
  timeoutMs: number,
): { kind: 'timeout' | 'network_error'; message: string } {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  const timedOut = e.name === 'TimeoutError' || e.name === 'AbortError';
  const cause = e.cause;
  const text = cause?.code
    ? `${cause.code}${cause.message ? ` ${cause.message}` : ''}`
    : (cause?.message ?? e.message ?? String(err));
  // undici puts a rejected header value (the token, for a malformed one) into its message: never pass it on.
  const safe = accessToken.length > 0 ? text.split(accessToken).join('[redacted]') : text;
  return {
    kind: timedOut ? 'timeout' : 'network_error',
    message: timedOut ? `no response within ${timeoutMs} ms` : safe,
  };
}

function parseJson(text: string): unknown {
  if (text.length === 0) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
