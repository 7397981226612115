// LINE Messaging API responses mapped to a push outcome (REFERENCE "LINE Messaging API", SPEC §7).
// Classification only: what the workflow does with a kind (stop the run, wait, retry) is its business.
// Pure: safe to import from workflow code.
import type { DeliveryOutcome } from './delivery-outcome';

export type LinePushOutcomeKind =
  /** 200: LINE accepted the push. Delivery is not confirmed: pushes to users who blocked us are dropped silently. */
  | 'sent'
  /** 409 on a reused retry key: an earlier attempt was accepted, so this message counts as sent once. */
  | 'already_accepted'
  /** 429 "You have reached your monthly limit.": the plan's quota is spent for every recipient of the account. */
  | 'monthly_limit'
  /** Any other 429: too many requests, try again later. */
  | 'rate_limited'
  /** 400 and other 4xx not listed here: this request will never succeed as it is. */
  | 'invalid_request'
  /** 401: the channel access token is missing, wrong, expired or revoked. */
  | 'unauthorized'
  /** 403: the account or plan may not use this API. */
  | 'forbidden'
  /** 5xx and 408: LINE failed; the push may or may not have been accepted, retry with the same key. */
  | 'server_error'
  /** No answer within the client's timeout; the push may have been accepted. */
  | 'timeout'
  /** Connection refused, reset, DNS failure: nothing (or nothing known) reached LINE. */
  | 'network_error'
  /** A status LINE does not document (1xx, 3xx). */
  | 'unexpected_status';

export interface LineErrorDetail {
  message: string;
  /** The request field at fault, e.g. 'messages[0].text'; absent when LINE does not say. */
  property?: string;
}

/** A push's delivery outcome: no SPEC code or type; the reason of a failure is its kind. */
export interface LinePushOutcome extends DeliveryOutcome {
  kind: LinePushOutcomeKind;
  code: null;
  errorType: null;
  reason: LinePushOutcomeKind | null;
  /** Retrying the same request (same retry key) may succeed. */
  retryable: boolean;
  /** The cause lies with the official account (token, plan, quota), not with this recipient: every other push of the
   * account will meet it too. */
  accountWide: boolean;
  /** HTTP status, null when no response came. */
  status: number | null;
  /** Human text: LINE's message and its details, or the transport failure. Never holds the access token. */
  detail: string;
  details: LineErrorDetail[];
  /** Ids of the sent messages (200 only), in the order of the request's messages. */
  sentMessageIds: string[];
  /** x-line-request-id of this response. */
  requestId: string | null;
  /** x-line-accepted-request-id (409 only): the request that was accepted first with this retry key. */
  acceptedRequestId: string | null;
  /** From Retry-After, when LINE sends it (429, 5xx). */
  retryAfterMs: number | null;
}

/** What the channel read off an HTTP response. */
export interface LineHttpResponse {
  status: number;
  /** The parsed JSON body, or null when it was empty or not JSON. */
  body: unknown;
  /** Lower-case header names. */
  headers: Readonly<Record<string, string | undefined>>;
}

export interface LineTransportFailure {
  kind: 'timeout' | 'network_error';
  /** Error text without secrets, e.g. 'ECONNREFUSED 127.0.0.1:8090'. */
  message: string;
}

/** LINE's wording (REFERENCE). Matched loosely: the 429 body is the only way to tell quota from rate. */
export const LINE_MONTHLY_LIMIT_MESSAGE = 'You have reached your monthly limit.';
const MONTHLY_LIMIT = /monthly limit/i;

/** The fields every channel's outcome has, from a push's kind and result. */
type PushFacts = Omit<LinePushOutcome, keyof Omit<DeliveryOutcome, 'result' | 'retryable' | 'detail'>>;

function asDeliveryOutcome(push: PushFacts): LinePushOutcome {
  return {
    ...push,
    code: null,
    errorType: null,
    reason: push.result === 'sent' ? null : push.kind,
    invalidatesAtOnce: false,
    policyBlock: false,
  };
}

export function classifyLinePushResponse(
  response: LineHttpResponse,
  nowMs: number = Date.now(),
): LinePushOutcome {
  return asDeliveryOutcome(classifyResponse(response, nowMs));
}

function classifyResponse(response: LineHttpResponse, nowMs: number): PushFacts {
  const { status } = response;
  const error = readErrorBody(response.body);
  const base = {
    status,
    details: error.details,
    sentMessageIds: [] as string[],
    requestId: response.headers['x-line-request-id'] ?? null,
    acceptedRequestId: null as string | null,
    retryAfterMs: null as number | null,
  };
  const detail = (fallback: string): string =>
    describeError(status, error.message ?? fallback, error.details);

  if (status >= 200 && status < 300) {
    return {
      ...base,
      kind: 'sent',
      result: 'sent',
      retryable: false,
      accountWide: false,
      details: [],
      sentMessageIds: readSentMessageIds(response.body),
      detail: 'accepted by LINE',
    };
  }
  if (status === 409) {
    const accepted = response.headers['x-line-accepted-request-id'] ?? null;
    return {
      ...base,
      kind: 'already_accepted',
      result: 'sent',
      retryable: false,
      accountWide: false,
      acceptedRequestId: accepted,
      detail: accepted ? `already accepted by LINE (request ${accepted})` : 'already accepted by LINE',
    };
  }
  if (status === 429) {
    if (error.message !== null && MONTHLY_LIMIT.test(error.message)) {
      return {
        ...base,
        kind: 'monthly_limit',
        // SPEC §7: an exhausted monthly limit is a pre-error, not a delivery error.
        result: 'pre_error',
        retryable: false,
        accountWide: true,
        detail: detail(LINE_MONTHLY_LIMIT_MESSAGE),
      };
    }
    return {
      ...base,
      kind: 'rate_limited',
      result: 'error',
      retryable: true,
      accountWide: true,
      retryAfterMs: parseRetryAfter(response.headers['retry-after'], nowMs),
      detail: detail('Too many requests'),
    };
  }
  if (status === 401) {
    return {
      ...base,
      kind: 'unauthorized',
      result: 'error',
      retryable: false,
      accountWide: true,
      detail: detail('Unauthorized'),
    };
  }
  if (status === 403) {
    return {
      ...base,
      kind: 'forbidden',
      result: 'error',
      retryable: false,
      accountWide: true,
      detail: detail('Forbidden'),
    };
  }
  if (status >= 500 || status === 408) {
    return {
      ...base,
      kind: 'server_error',
      result: 'error',
      retryable: true,
      accountWide: false,
      retryAfterMs: parseRetryAfter(response.headers['retry-after'], nowMs),
      detail: detail('LINE server error'),
    };
  }
  if (status >= 400) {
    return {
      ...base,
      kind: 'invalid_request',
      result: 'error',
      retryable: false,
      accountWide: false,
      detail: detail('Bad request'),
    };
  }
  return {
    ...base,
    kind: 'unexpected_status',
    result: 'error',
    retryable: false,
    accountWide: false,
    detail: detail('unexpected response'),
  };
}

export function classifyLineTransportFailure(failure: LineTransportFailure): LinePushOutcome {
  return asDeliveryOutcome({
    kind: failure.kind,
    result: 'error',
    // The retry key makes a repeat harmless even if the lost attempt was accepted.
    retryable: true,
    accountWide: false,
    status: null,
    detail:
      failure.kind === 'timeout'
        ? `no answer from LINE: ${failure.message}`
        : `cannot reach LINE: ${failure.message}`,
    details: [],
    sentMessageIds: [],
    requestId: null,
    acceptedRequestId: null,
    retryAfterMs: null,
  });
}

/** Retry-After as delta-seconds or an HTTP date (RFC 9110 §10.2.3); null when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | null {
  if (value === undefined) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - nowMs);
}

/** LINE's error body `{message, details[]}`; tolerant of anything else. */
export function readErrorBody(body: unknown): { message: string | null; details: LineErrorDetail[] } {
  if (!isRecord(body)) return { message: null, details: [] };
  const message = typeof body.message === 'string' ? body.message : null;
  const details: LineErrorDetail[] = [];
  if (Array.isArray(body.details)) {
    for (const d of body.details) {
      if (!isRecord(d)) continue;
      const text = typeof d.message === 'string' ? d.message : '';
      const property = typeof d.property === 'string' ? d.property : undefined;
      if (!text && !property) continue;
      details.push(property === undefined ? { message: text } : { message: text, property });
    }
  }
  return { message, details };
}

function readSentMessageIds(body: unknown): string[] {
  if (!isRecord(body) || !Array.isArray(body.sentMessages)) return [];
  const ids: string[] = [];
  for (const m of body.sentMessages) {
    if (isRecord(m) && typeof m.id === 'string') ids.push(m.id);
  }
  return ids;
}

function describeError(status: number, message: string, details: readonly LineErrorDetail[]): string {
  const parts = details.map((d) => (d.property ? `${d.property}: ${d.message}` : d.message));
  return parts.length > 0 ? `${status} ${message} (${parts.join('; ')})` : `${status} ${message}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
