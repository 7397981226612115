// LINE webhooks (SPEC §7): follow and unfollow events set the friend status of the leads with that LINE user id, so a
// later run reports pushes to users who blocked the account as pre-errors. Public (LINE calls it), authenticated by
// the X-Line-Signature over the exact bytes received: this plugin's own content-type parser keeps the raw body, and
// nothing is parsed or changed before the signature holds.
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { verifySignature } from '../../channels/line-signature';
import { applyFriendshipChanges, liveOfficialAccount, type FriendshipChange } from '../../db/line-queries';
import { parseLineWebhook } from '../../domain/line-webhook';
import { ApiError, notFound } from '../errors';
import { ErrorBody } from '../schemas';

const WEBHOOK_BODY_LIMIT = 1024 * 1024;

export const lineWebhookRoutes: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { pool } = app.deps;

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
        params: Type.Object(
          { accountId: Type.Integer({ minimum: 1, maximum: 2147483647 }) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ ok: Type.Boolean(), leadsUpdated: Type.Integer() }),
          400: ErrorBody,
          401: ErrorBody,
          404: ErrorBody,
        },
      },
    },
    async (req) => {
      const account = await liveOfficialAccount(pool, req.params.accountId);
      if (!account) throw notFound(`official account ${req.params.accountId}`);
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      if (!verifySignature(account.channel_secret, raw, req.headers['x-line-signature'])) {
        throw new ApiError(
          401,
          'x-line-signature is missing or does not match the body',
          'headers.x-line-signature',
        );
      }
      const parsed = parseLineWebhook(raw.toString('utf8'));
      if (!parsed.ok) throw new ApiError(400, `body: ${parsed.error}`, 'body');

      // The latest event per user wins; LINE may batch a follow and an unfollow of the same user.
      const latest = new Map<string, { at: number; change: FriendshipChange }>();
      for (const e of parsed.webhook.events) {
        const prev = latest.get(e.userId);
        if (prev && prev.at > e.timestamp) continue;
        latest.set(e.userId, {
          at: e.timestamp,
          change: { userId: e.userId, status: e.type === 'follow' ? 'friend' : 'blocked' },
        });
      }
      const leadsUpdated = await applyFriendshipChanges(
        pool,
        [...latest.values()].map((v) => v.change),
      );
      req.log.info(
        {
          accountId: account.id,
          events: parsed.webhook.events.length,
          ignored: parsed.webhook.ignoredEvents,
          leadsUpdated,
        },
        'LINE webhook applied',
      );
      return { ok: true, leadsUpdated };
    },
  );
};
