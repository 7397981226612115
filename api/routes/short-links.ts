// SMS short URLs (SPEC §6, click counting): `${PUBLIC_BASE_URL}/s/<code>`
// counts a click like /c/:token does and redirects to the original URL. The
// code is a tracked_link token of part 'sms' (128 random bits, base64url):
// short enough for an SMS, unguessable, unrelated to any id. Unknown codes get
// a 404 and record nothing, never a redirect.
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { DEFAULT_BOT_THRESHOLDS, judgeClick } from '../../domain/bot-clicks';
import { TRACKING_TOKEN, locationHeaderValue } from '../../domain/link-rewrite';
import { findToken, loadClickContext, recordClick } from '../../db/tracking-queries';

const NO_STORE = 'no-store, no-cache, must-revalidate, private';
const MAX_USER_AGENT = 512;

const notFound = (reply: FastifyReply) =>
  reply
    .code(404)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', NO_STORE)
    .send(
      '<!doctype html><html lang="ja"><head><meta charset="utf-8"><title>Not found</title></head><body><h1>This link is not valid</h1><p>このリンクは無効です。</p></body></html>',
    );

const redirect = (reply: FastifyReply, url: string) =>
  reply
    .code(302)
    .header('location', locationHeaderValue(url))
    .header('cache-control', NO_STORE)
    .header('referrer-policy', 'no-referrer')
    .send();

const CodeParams = Type.Object({ code: Type.String({ maxLength: 64 }) }, { additionalProperties: false });

export const shortLinkRoutes: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { pool } = app.deps;
  const thresholds = DEFAULT_BOT_THRESHOLDS;

  app.get(
    '/s/:code',
    {
      exposeHeadRoute: false,
      schema: {
        tags: ['tracking'],
        summary: 'SMS short URL: count a click and redirect to the original URL',
        params: CodeParams,
      },
    },
    async (req, reply) => {
      const { code } = req.params;
      if (!TRACKING_TOKEN.test(code)) return notFound(reply);
      const ua = req.headers['user-agent'];
      const visit = {
        at: new Date(),
        ip: req.ip || null,
        userAgent: ua ? ua.slice(0, MAX_USER_AGENT) : null,
      };
      const ctx = await loadClickContext(pool, code, visit.at, thresholds.burstWindowMs);
      if (!ctx || ctx.part !== 'sms') return notFound(reply);
      const judgement = judgeClick(
        {
          at: visit.at,
          userAgent: visit.userAgent,
          linkId: ctx.linkId,
          deliveredAt: ctx.deliveredAt,
          sameLinkClicksBefore: ctx.sameLinkClicksBefore,
          distinctLinksClickedIncludingThis: ctx.otherLinksClicked + 1,
          linksInMessage: ctx.linksInMessage,
          distinctLinksClickedWithinBurstWindow: ctx.otherLinksInBurstWindow + 1,
        },
        thresholds,
      );
      try {
        await recordClick(pool, {
          sendId: ctx.sendId,
          linkId: ctx.linkId,
          visit,
          suspected: judgement.suspected,
          reasons: judgement.reasons,
          burstWindowMs: thresholds.burstWindowMs,
        });
      } catch (err) {
        req.log.error({ err, sendId: ctx.sendId }, 'short URL click could not be recorded');
      }
      return redirect(reply, ctx.url);
    },
  );

  app.head('/s/:code', { schema: { hide: true, params: CodeParams } }, async (req, reply) => {
    const link = TRACKING_TOKEN.test(req.params.code)
      ? await findToken(pool, req.params.code, 'click')
      : null;
    if (!link || link.part !== 'sms') return notFound(reply);
    return redirect(reply, link.url);
  });
};
