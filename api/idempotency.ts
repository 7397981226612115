// Idempotency-Key (POST /v1/messages, POST /v1/wizard-runs): a client that
// retries after a timeout gets the first answer, same status and same bytes,
// and nothing is done twice. Keys are scoped to the API key and stored
// durably (db/idempotency-queries.ts); the same key with a different request
// is a 422.
//
// A route opts in with `...idempotentRoute(pool, 'POST /v1/…')` in its
// options. Before the handler, one INSERT decides which of any number of
// concurrent duplicates runs; the others wait for its answer. The handler
// names what it creates (`recordCreated`) inside the transaction creating it,
// so an interrupted request is never silently done again. Answers below 500
// are kept (a 400 stays a 400 on a repeat: the request is the same); a 5xx
// frees the key so a retry runs afresh.
import { createHash } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Pool } from 'pg';
import type { Queryable } from '../db/pool';
import {
  claimIdempotencyKey,
  completeIdempotencyKey,
  getIdempotencyKey,
  IDEMPOTENCY_KEY_RETENTION_HOURS,
  recordIdempotentResource,
  releaseAbandonedIdempotencyKey,
  releaseIdempotencyKey,
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
        `Keys are scoped to the API key and kept ${IDEMPOTENCY_KEY_RETENTION_HOURS} hours.`,
    }),
  ),
});

/** How long a duplicate waits for the first request's answer before it is told to come back. */
const WAIT_FOR_FIRST_MS = 30_000;
/** A request holding its key this long without having created anything died on the way: its key is freed. */
const ABANDONED_AFTER_SECONDS = 600;

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

interface Held {
  pool: Pool;
  apiKeyId: number;
  key: string;
}

/** Requests that hold their key, until their answer is stored. */
const holding = new WeakMap<FastifyRequest, Held>();

/** Name what this request created (a send, a run), in the transaction creating it; nothing without a key. */
export async function recordCreated(req: FastifyRequest, db: Queryable, resource: string): Promise<void> {
  const held = holding.get(req);
  if (held) await recordIdempotentResource(db, held.apiKeyId, held.key, resource);
}

/** Route options making a route idempotent under the Idempotency-Key header. */
export function idempotentRoute(pool: Pool, route: string) {
  async function preHandler(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const raw = req.headers[IDEMPOTENCY_HEADER];
    const key = typeof raw === 'string' ? raw : undefined;
    const apiKeyId = req.apiKey?.id;
    if (key === undefined || apiKeyId === undefined) return;
    const hash = requestFingerprint(route, req.body);
    const deadline = Date.now() + WAIT_FOR_FIRST_MS;
    for (;;) {
      if (await claimIdempotencyKey(pool, apiKeyId, key, route, hash)) {
        holding.set(req, { pool, apiKeyId, key });
        return;
      }
      const held = await getIdempotencyKey(pool, apiKeyId, key);
      if (!held) continue; // freed meanwhile (the first request failed): claim it again
      if (held.request_hash !== hash) {
        throw new ApiError(
          422,
          `Idempotency-Key "${key}" was already used with a different request` +
            `${held.route !== route ? ` (${held.route})` : ' (another body)'}; use a new key for a new request`,
          `headers.${IDEMPOTENCY_HEADER}`,
        );
      }
      if (held.status_code !== null && held.response_body !== null) {
        await reply
          .code(held.status_code)
          .type('application/json; charset=utf-8')
          .header('idempotent-replayed', 'true')
          .send(held.response_body);
        return;
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

  /** Store the answer as sent (its status and serialized body), or free the key after a 5xx. */
  async function onSend(req: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> {
    const held = holding.get(req);
    if (!held) return payload;
    holding.delete(req);
    try {
      if (reply.statusCode >= 500 || typeof payload !== 'string') {
        await releaseIdempotencyKey(held.pool, held.apiKeyId, held.key);
      } else {
        await completeIdempotencyKey(held.pool, held.apiKeyId, held.key, reply.statusCode, payload);
      }
    } catch (err) {
      req.log.error({ err, idempotencyKey: held.key }, 'could not store the answer of an idempotent request');
    }
    return payload;
  }

  return { preHandler, onSend };
}
