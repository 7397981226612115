// The endpoints recipients hit (SPEC §8): click redirects, the open-tracking
// image and one-click unsubscribe (RFC 8058). They answer browsers, mail
// clients and link scanners, not API clients: HTML, a GIF or a redirect,
// never JSON. Each hit is one or two indexed statements (db/tracking-queries).
//
// Decisions:
// - An unknown or malformed token gets a small 404 HTML page and records
//   nothing: never a redirect (no open redirect, nothing to learn by probing),
//   never the GIF (a forged open must not look accepted).
// - HEAD never records. Link scanners and prefetchers send HEAD before (or
//   instead of) GET; a click is a GET. HEAD answers what GET would (302 with
//   Location, 200 image/gif, 200 page) or 404.
// - GET /u/:token only shows a confirmation form: scanners follow GETs, so
//   only a POST (RFC 8058's one-click POST, or the form) unsubscribes.
// - Clicks and opens are recorded through a pool of their own whose commits
//   do not wait for the WAL flush (api/plugins/database.ts, AppDeps.trackingRecorderPool);
//   unsubscribes go through the API's durable pool (db/repositories/tracking.ts).
// - The client address is req.ip: behind a proxy, Fastify's trustProxy decides it.
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { DEFAULT_BOT_THRESHOLDS, judgeClick } from '../../domain/bot-clicks';
import { TRACKING_PATHS, TRACKING_TOKEN, locationHeaderValue } from '../../domain/link-rewrite';
import type { ClickRecorder } from '../../db/repositories/tracking';
import type { Visit } from '../../db/tracking-queries';
import { repository } from '../plugins/repositories';
import { routesPlugin } from '../plugins/named-plugin';

const TokenParams = Type.Object(
  { token: Type.String({ description: 'opaque tracking token from the message' }) },
  { additionalProperties: false },
);

export const html = (description: string) => ({
  description,
  content: { 'text/html': { schema: Type.String() } },
});
export const empty = (description: string) => ({ description, type: 'null' as const });

// The smallest transparent GIF: 1×1, one colour, fully transparent.
const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

const NO_STORE = 'no-store, no-cache, must-revalidate, private';
/** Longest user agent kept; some scanners send kilobytes. */
const MAX_USER_AGENT = 512;

/** The request as a visit, at the app's clock (AppDeps.clock: the system clock in production). */
function visitOf(req: FastifyRequest): Visit {
  const ua = req.headers['user-agent'];
  const at = req.server.deps.clock?.() ?? new Date();
  return { at, ip: req.ip || null, userAgent: ua ? ua.slice(0, MAX_USER_AGENT) : null };
}

/** Opens cannot be judged by link patterns; a scanner naming itself is the one sign. */
function openJudgement(userAgent: string | null): { suspected: boolean; reasons: string[] } {
  const scanner =
    userAgent !== null && DEFAULT_BOT_THRESHOLDS.scannerUserAgents.some((p) => p.test(userAgent));
  return { suspected: scanner, reasons: scanner ? ['scanner_user_agent'] : [] };
}

function page(title: string, body: string): string {
  return (
    `<!doctype html><html lang="ja"><head><meta charset="utf-8"><meta name="robots" content="noindex">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title></head>` +
    `<body style="font-family:sans-serif;max-width:32em;margin:3em auto;padding:0 1em">${body}</body></html>`
  );
}

const NOT_FOUND_PAGE = page('Not found', '<h1>This link is not valid</h1><p>このリンクは無効です。</p>');

function pageHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', NO_STORE)
    .header('x-robots-tag', 'noindex')
    .header('referrer-policy', 'no-referrer')
    .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'");
}

export function notFoundPage(reply: FastifyReply, head = false) {
  return pageHeaders(reply.code(404)).send(head ? undefined : NOT_FOUND_PAGE);
}

export const redirect = (reply: FastifyReply, url: string) =>
  reply
    .code(302)
    .header('location', locationHeaderValue(url))
    // A cached redirect would hide repeat clicks, and the token must not leak as a Referer.
    .header('cache-control', NO_STORE)
    .header('referrer-policy', 'no-referrer')
    .send();

/**
 * Judge and record one click on a tracking token (email /c and SMS /s alike).
 * Returns the URL to redirect to, or null when the token is unknown, malformed
 * or of a part `acceptPart` refuses: then nothing is recorded.
 */
export async function countClick(
  clicks: ClickRecorder,
  token: string,
  req: FastifyRequest,
  acceptPart: (part: string) => boolean = () => true,
): Promise<string | null> {
  if (!TRACKING_TOKEN.test(token)) return null;
  const thresholds = DEFAULT_BOT_THRESHOLDS;
  const visit = visitOf(req);
  const ctx = await clicks.context(token, visit.at, thresholds.burstWindowMs);
  if (!ctx || !acceptPart(ctx.part)) return null;
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
    await clicks.record({
      sendId: ctx.sendId,
      linkId: ctx.linkId,
      visit,
      suspected: judgement.suspected,
      reasons: judgement.reasons,
      burstWindowMs: thresholds.burstWindowMs,
    });
  } catch (err) {
    // The reader still gets the page they asked for; the lost click is logged.
    req.log.error({ err, sendId: ctx.sendId, linkId: ctx.linkId }, 'click could not be recorded');
  }
  return ctx.url;
}

/** Anything else under a tracking prefix (a token too long to route, an extra segment) is a 404 page too. */
function htmlNotFound(app: Parameters<FastifyPluginAsync>[0]) {
  app.setNotFoundHandler((req, reply) => notFoundPage(reply, req.method === 'HEAD'));
  // A token the input guard refuses (a NUL in it, …) is a malformed token like any other: the 404 page.
  // Anything else goes on to the API's error handler.
  app.setErrorHandler((err: { statusCode?: number }, req, reply) => {
    if (err.statusCode === 400) return notFoundPage(reply, req.method === 'HEAD');
    throw err;
  });
}

const clickRoutes: FastifyPluginAsync = async (fastify) => {
  const { tracking } = fastify;
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  htmlNotFound(app);

  app.get(
    '/:token',
    {
      config: { public: true },
      exposeHeadRoute: false,
      schema: {
        tags: ['tracking'],
        summary: 'Count a click and redirect to the original URL',
        params: TokenParams,
        response: {
          302: empty('to the original URL'),
          404: html('unknown or malformed token; nothing recorded'),
        },
      },
    },
    async (req, reply) => {
      const url = await countClick(tracking.emailClicks, req.params.token, req);
      return url ? redirect(reply, url) : notFoundPage(reply);
    },
  );

  app.head(
    '/:token',
    {
      config: { public: true },
      schema: {
        tags: ['tracking'],
        summary: 'What GET would answer, without counting a click (scanners and prefetchers send HEAD)',
        params: TokenParams,
        response: { 302: empty('to the original URL'), 404: empty('unknown or malformed token') },
      },
    },
    async (req, reply) => {
      const { token } = req.params;
      const link = TRACKING_TOKEN.test(token) ? await tracking.findToken(token, 'click') : null;
      if (!link) return notFoundPage(reply, true);
      return redirect(reply, link.url);
    },
  );
};

const openRoutes: FastifyPluginAsync = async (fastify) => {
  const { tracking } = fastify;
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  htmlNotFound(app);

  const gif = (reply: FastifyReply, head: boolean) =>
    reply
      .code(200)
      .header('content-type', 'image/gif')
      .header('content-length', String(PIXEL.length))
      .header('cache-control', NO_STORE)
      .header('pragma', 'no-cache')
      .header('expires', '0')
      .send(head ? undefined : PIXEL);

  const gifResponse = {
    description: '1×1 transparent GIF',
    content: { 'image/gif': { schema: Type.String({ format: 'binary' }) } },
  };

  app.get(
    '/:token',
    {
      config: { public: true },
      exposeHeadRoute: false,
      schema: {
        tags: ['tracking'],
        summary: 'Record an open (the tracking image of an HTML mail)',
        params: TokenParams,
        response: { 200: gifResponse, 404: html('unknown or malformed token; nothing recorded') },
      },
    },
    async (req, reply) => {
      const { token } = req.params;
      if (!TRACKING_TOKEN.test(token)) return notFoundPage(reply);
      const visit = visitOf(req);
      const judgement = openJudgement(visit.userAgent);
      const found = await tracking.recordOpen(token, visit, judgement.suspected, judgement.reasons);
      return found ? gif(reply, false) : notFoundPage(reply);
    },
  );

  app.head(
    '/:token',
    {
      config: { public: true },
      schema: {
        tags: ['tracking'],
        summary: 'What GET would answer, without recording an open',
        params: TokenParams,
        response: { 200: empty('image headers'), 404: empty('unknown or malformed token') },
      },
    },
    async (req, reply) => {
      const { token } = req.params;
      const open = TRACKING_TOKEN.test(token) ? await tracking.findToken(token, 'open') : null;
      return open ? gif(reply, true) : notFoundPage(reply, true);
    },
  );
};

const unsubscribeRoutes: FastifyPluginAsync = async (fastify) => {
  const { tracking } = fastify;
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  htmlNotFound(app);

  // RFC 8058 receivers POST "List-Unsubscribe=One-Click" as
  // application/x-www-form-urlencoded or multipart/form-data, some with no
  // body at all. The token in the URL is the whole authority, so the body is
  // read (bounded) and not interpreted: any of them unsubscribes.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: 16 * 1024 }, (_req, body, done) =>
    done(null, body),
  );

  const stoppedPage = page(
    'Unsubscribed',
    '<h1>You are unsubscribed</h1><p>You will receive no more of these messages.</p><p>配信を停止しました。</p>',
  );

  app.get(
    '/:token',
    {
      config: { public: true },
      exposeHeadRoute: false,
      schema: {
        tags: ['tracking'],
        summary: 'Unsubscribe confirmation page (a GET never unsubscribes: link scanners follow GETs)',
        params: TokenParams,
        response: {
          200: html('a form that POSTs to this same URL'),
          404: html('unknown or malformed token'),
        },
      },
    },
    async (req, reply) => {
      const { token } = req.params;
      const target = TRACKING_TOKEN.test(token) ? await tracking.findUnsubscribeTarget(token) : null;
      if (!target) return notFoundPage(reply);
      if (target.unsubscribed) return pageHeaders(reply.code(200)).send(stoppedPage);
      return pageHeaders(reply.code(200)).send(
        page(
          'Unsubscribe',
          '<h1>Unsubscribe</h1><p>Stop receiving these messages? / 配信を停止しますか?</p>' +
            '<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">' +
            '<button type="submit">Unsubscribe / 配信停止</button></form>',
        ),
      );
    },
  );

  app.post(
    '/:token',
    {
      config: { public: true },
      schema: {
        tags: ['tracking'],
        summary:
          'One-click unsubscribe (RFC 8058): no cookies, no auth, no redirect; repeating it is harmless',
        params: TokenParams,
        response: { 200: html('unsubscribed'), 404: html('unknown or malformed token; nothing changed') },
      },
    },
    async (req, reply) => {
      const { token } = req.params;
      const done = TRACKING_TOKEN.test(token) ? await tracking.recordUnsubscribe(token, visitOf(req)) : null;
      if (!done) return notFoundPage(reply);
      return pageHeaders(reply.code(200)).send(stoppedPage);
    },
  );

  app.head(
    '/:token',
    {
      config: { public: true },
      schema: {
        tags: ['tracking'],
        summary: 'What GET would answer; changes nothing',
        params: TokenParams,
        response: { 200: empty('page headers'), 404: empty('unknown or malformed token') },
      },
    },
    async (req, reply) => {
      const { token } = req.params;
      const target = TRACKING_TOKEN.test(token) ? await tracking.findUnsubscribeTarget(token) : null;
      return target ? pageHeaders(reply.code(200)).send() : notFoundPage(reply, true);
    },
  );
};

const prefix = (path: string) => path.replace(/\/$/, '');

export const trackingRoutes: FastifyPluginAsync = routesPlugin(
  { name: 'tracking-routes', dependencies: [repository('tracking')] },
  async (app) => {
    await app.register(clickRoutes, { prefix: prefix(TRACKING_PATHS.click) });
    await app.register(openRoutes, { prefix: prefix(TRACKING_PATHS.open) });
    await app.register(unsubscribeRoutes, { prefix: prefix(TRACKING_PATHS.unsubscribe) });
  },
);
