// SMS short URLs (SPEC §6, click counting): `${PUBLIC_BASE_URL}/s/<code>`
// counts a click like /c/:token does and redirects to the original URL. The
// code is a tracked_link token of part 'sms' (128 random bits, base64url):
// short enough for an SMS, unguessable, unrelated to any id. Unknown codes get
// a 404 and record nothing, never a redirect.
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { TRACKING_TOKEN } from '../../domain/link-rewrite';
import { repository } from '../plugins/repositories';
import { routesPlugin } from '../plugins/named-plugin';
import { countClick, empty, html, notFoundPage, redirect } from './tracking';

const CodeParams = Type.Object({ code: Type.String({ maxLength: 64 }) }, { additionalProperties: false });

export const shortLinkRoutes: FastifyPluginAsync = routesPlugin(
  { name: 'short-link-routes', dependencies: [repository('tracking')] },
  async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    const { tracking } = app;

    app.get(
      '/s/:code',
      {
        config: { public: true },
        exposeHeadRoute: false,
        schema: {
          tags: ['tracking'],
          summary: 'SMS short URL: count a click and redirect to the original URL',
          params: CodeParams,
          response: {
            302: empty('to the original URL'),
            404: html('unknown or malformed code; nothing recorded'),
          },
        },
      },
      async (req, reply) => {
        const url = await countClick(tracking.smsClicks, req.params.code, req, (part) => part === 'sms');
        return url ? redirect(reply, url) : notFoundPage(reply);
      },
    );

    app.head(
      '/s/:code',
      { config: { public: true }, schema: { hide: true, params: CodeParams } },
      async (req, reply) => {
        const link = TRACKING_TOKEN.test(req.params.code)
          ? await tracking.findToken(req.params.code, 'click')
          : null;
        if (!link || link.part !== 'sms') return notFoundPage(reply, true);
        return redirect(reply, link.url);
      },
    );
  },
);
