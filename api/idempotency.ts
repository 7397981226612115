// Idempotency-Key (POST /v1/messages, POST /v1/wizard-runs): a client that
// retries after a timeout gets the first answer, same status and body, and
// nothing is done twice. Keys are scoped to the API key and stored durably
// (db/idempotency-queries.ts); the same key with a different request is a 422.
//
// The first request claims the key with an INSERT that only one of any number
// of concurrent duplicates can win; the others wait for its answer. What the
// request creates (a send, a run) is recorded in the same transaction that
// creates it, so an interrupted request is never silently done again. Answers
// below 500 are kept (a 400 stays a 400 on a repeat, as the request is the
// same); a 5xx frees the key so the retry runs afresh.
import { createHash } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Pool } from 'pg';
import type { Queryable } from '../db/pool';
import {
  claimIdempotencyKey,
  completeIdempotencyKey,
  getIdempotencyKey,
  recordIdempotentResource,
  releaseAbandonedIdempotencyKey,
  releaseIdempotencyKey,
  type IdempotencyRow,
} from '../db/idempotency-queries';
import { ApiError } from './errors';

export const IDEMPOTENCY_HEADER = 'idempotency-key';

/** The header in a route's schema (validated, and shown in the OpenAPI document). */
export const IdempotencyHeaders = Type.Object({
  [IDEMPOTENCY_HEADER]: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 255,
      pattern: '^[\\x21-\\x7E]+$',
      description:
        'Optional; 1–255 printable ASCII characters without spaces, unique per request (e.g. a UUID). ' +
        'A repeat with the same key and the same body (a retry after a timeout) gets the first answer, ' +
        'same status and body, and nothing is done twice; the same key with a different request is a 422. ' +
        'Keys are scoped to the API key.',
    }),
  ),
});

/** How long a duplicate waits for the first request's answer before it is told to come back. */
const WAIT_FOR_FIRST_MS = 30_000;
/** A request holding its key this long without having created anything died on the way: its key is freed. */
const ABANDONED_AFTER_SECONDS = 600;

export interface IdempotencyClaim {
  /** Name what this request created, inside the transaction creating it. */
  record(db: Queryable, resource: string): Promise<void>;
}

export interface Answer {
  status: number;
  body: unknown;
}

/** Objects with their keys sorted, so the same JSON in another key order is the same request. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value as Record<string, unknown>)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/** What makes two requests with one key the same request: the route and the body, key order aside. */
export function requestFingerprint(route: string, body: unknown): string {
  return createHash('sha256')
    .update(`${route}\n${JSON.stringify(canonical(body ?? null))}`)
    .digest('hex');
}

const NO_CLAIM: IdempotencyClaim = { record: async () => undefined };

/**
 * Answer `req` through `handle`, once per Idempotency-Key. `handle` returns
 * the answer or throws; an ApiError below 500 is an answer like any other.
 */
export async function idempotent(
  pool: Pool,
  req: FastifyRequest,
  reply: FastifyReply,
  route: string,
  handle: (claim: IdempotencyClaim) => Promise<Answer>,
): Promise<FastifyReply> {
  const raw = req.headers[IDEMPOTENCY_HEADER];
  const key = typeof raw === 'string' ? raw : undefined;
  const apiKeyId = req.apiKey?.id;
  if (key === undefined || apiKeyId === undefined) {
    const answer = await handle(NO_CLAIM);
    return reply.status(answer.status).send(answer.body);
  }
  const hash = requestFingerprint(route, req.body);
  const deadline = Date.now() + WAIT_FOR_FIRST_MS;
  for (;;) {
    if (await claimIdempotencyKey(pool, apiKeyId, key, route, hash)) {
      const claim: IdempotencyClaim = {
        record: (db, resource) => recordIdempotentResource(db, apiKeyId, key, resource),
      };
      let answer: Answer;
      try {
        answer = await handle(claim);
      } catch (err) {
        if (!(err instanceof ApiError) || err.statusCode >= 500) {
          await releaseIdempotencyKey(pool, apiKeyId, key).catch((e: unknown) =>
            req.log.error({ err: e }, 'could not free an idempotency key'),
          );
          throw err;
        }
        answer = { status: err.statusCode, body: err.body() };
      }
      if (answer.status >= 500) await releaseIdempotencyKey(pool, apiKeyId, key);
      else await completeIdempotencyKey(pool, apiKeyId, key, answer.status, answer.body);
      return reply.status(answer.status).send(answer.body);
    }
    const held: IdempotencyRow | null = await getIdempotencyKey(pool, apiKeyId, key);
    if (!held) continue; // freed meanwhile (the first request failed): claim it again
    if (held.request_hash !== hash) {
      throw new ApiError(
        422,
        `Idempotency-Key "${key}" was already used with a different request` +
          `${held.route !== route ? ` (${held.route})` : ' (another body)'}; use a new key for a new request`,
        `headers.${IDEMPOTENCY_HEADER}`,
      );
    }
    if (held.status_code !== null) {
      return reply.status(held.status_code).header('idempotent-replayed', 'true').send(held.response_body);
    }
    if (await releaseAbandonedIdempotencyKey(pool, apiKeyId, key, ABANDONED_AFTER_SECONDS)) continue;
    if (Date.now() > deadline) {
      throw new ApiError(
        409,
        `a request with Idempotency-Key "${key}" is still in progress` +
          `${held.resource ? ` (it created ${held.resource})` : ''}; repeat it later to get its answer`,
        `headers.${IDEMPOTENCY_HEADER}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
