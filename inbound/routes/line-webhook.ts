// LINE webhooks (SPEC §7): follow and unfollow events set the friend status of the leads with that LINE user id, so a
// later run reports pushes to users who blocked the account as pre-errors. Public (LINE calls it), authenticated by
// the X-Line-Signature over the exact bytes received: this plugin's own content-type parser keeps the raw body, and
// nothing is parsed or changed before the signature holds. An unknown account and a bad signature get the same
// answer (and the same work: a signature check), so account ids cannot be enumerated. Each event is applied once,
// by its webhookEventId, and the latest event of a user decides (db/line-webhook-queries.ts): LINE redelivers.
// A malformed event is recorded with its reason and the body's other events applied: LINE does not resend a body
// we refuse, so a 400 for one bad event would lose the good ones.
//
// A Fastify plugin that api/app.ts registers with the pool (inbound/ sits below api/ and imports nothing from it).
import { randomBytes } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Pool } from 'pg';
import { verifySignature } from '../../channels/line-signature';
import { liveOfficialAccount } from '../../db/line-queries';
import { applyLineWebhookEvents, recordRejectedLineEvents } from '../../db/line-webhook-queries';
import { ApiError, ErrorBody } from '../../domain/http-error';
import { parseLineWebhook } from '../../domain/line-webhook';

export interface LineWebhookRouteOptions {
  pool: Pool;
}

const WEBHOOK_BODY_LIMIT = 1024 * 1024;

/** The one refusal for an unknown account and a bad or missing signature alike. */
const refused = () =>
  new ApiError(401, 'x-line-signature is missing or does not match the body', 'headers.x-line-signature');
/** Checked against when the account is unknown, so that answer costs what a wrong signature costs. */
const NO_ACCOUNT_SECRET = randomBytes(32).toString('hex');

export const lineWebhookRoutes: FastifyPluginAsync<LineWebhookRouteOptions> = async (fastify, { pool }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  // Encapsulated: only this plugin's routes get the raw Buffer, whatever the content type says.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: WEBHOOK_BODY_LIMIT }, (_req, body, done) => {
    done(null, body);
  });

  app.post(
    '/v1/line/webhook/:accountId',
    {
      config: { public: true },
      bodyLimit: WEBHOOK_BODY_LIMIT,
      schema: {
        tags: ['LINE'],
        summary:
          "Webhook of a LINE official account (set in the LINE Developers console); signed with the account's channel secret",
        description:
          'A bad or missing signature and an unknown account get the same 401; a body that is not a webhook (not JSON, no destination or events) is a 400. A malformed event does not refuse its body: the valid events are applied, the malformed ones recorded with the reason and listed in `rejected`, and the answer is 200 (LINE does not send a refused body again). Each event is applied once (by its webhookEventId) and the latest event of a user by LINE time decides its friend status, so late redeliveries are harmless.',
        params: Type.Object(
          { accountId: Type.Integer({ minimum: 1, maximum: 2147483647 }) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            ok: Type.Boolean(),
            leadsUpdated: Type.Integer({ description: 'leads whose friend status changed' }),
            eventsApplied: Type.Integer({ description: 'follow/unfollow events applied now' }),
            eventsRepeated: Type.Integer({
              description: 'events applied before (same webhookEventId): ignored, a redelivery is harmless',
            }),
            eventsRejected: Type.Integer({ description: 'malformed events, recorded and not applied' }),
            rejected: Type.Array(
              Type.Object({
                index: Type.Integer({ description: 'position in the body events' }),
                reason: Type.String({ description: "e.g. 'events[1].timestamp: is required and must be …'" }),
              }),
            ),
          }),
          400: ErrorBody,
          // A bad or missing signature and an unknown account alike.
          401: ErrorBody,
        },
      },
    },
    async (req) => {
      const account = await liveOfficialAccount(pool, req.params.accountId);
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const signed = verifySignature(
        account?.channel_secret ?? NO_ACCOUNT_SECRET,
        raw,
        req.headers['x-line-signature'],
      );
      if (!account || !signed) throw refused();
      const parsed = parseLineWebhook(raw.toString('utf8'));
      if (!parsed.ok) throw new ApiError(400, `body: ${parsed.error}`, 'body');

      const { events, rejectedEvents } = parsed.webhook;
      const result = await applyLineWebhookEvents(pool, account.id, events);
      const rejectedNew = await recordRejectedLineEvents(pool, account.id, rejectedEvents);
      if (rejectedEvents.length > 0) {
        req.log.warn(
          { accountId: account.id, rejected: rejectedEvents.map((r) => r.reason), recorded: rejectedNew },
          'LINE webhook events rejected',
        );
      }
      req.log.info(
        {
          accountId: account.id,
          events: events.length,
          ignored: parsed.webhook.ignoredEvents,
          rejected: rejectedEvents.length,
          ...result,
        },
        'LINE webhook applied',
      );
      return {
        ok: true,
        leadsUpdated: result.leadsUpdated,
        eventsApplied: result.applied,
        eventsRepeated: result.repeated,
        eventsRejected: rejectedEvents.length,
        rejected: rejectedEvents.map((r) => ({ index: r.index, reason: r.reason })),
      };
    },
  );
};
