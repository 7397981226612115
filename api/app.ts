// The Fastify app, built by a function tests can call. server.ts only listens
// and closes. Schemas (TypeBox) give validation, types and the OpenAPI document.
import { domainRuleRoutes } from './routes/domain-rules';
import { sendingDomainRoutes } from './routes/sending-domains';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import rateLimit from '@fastify/rate-limit';
import cookie from '@fastify/cookie';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Client } from '@temporalio/client';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { AppConfig } from '../config/config';
import { ApiError } from './errors';
import { authPlugin } from './plugins/auth';
import { consoleSessionRoutes } from './routes/console-session';
import { consoleUserRoutes } from './routes/console-users';
import { databasePlugin } from './plugins/database';
import { repositoryPlugins } from './plugins/repositories';
import { inputGuard } from './plugins/input-guard';
import { ajvInputRules, ajvStrictTimes } from './schemas';
import { leadRoutes } from './routes/leads';
import { templateRoutes } from './routes/templates';
import { segmentRoutes } from './routes/segments';
import { wizardRunRoutes } from './routes/wizard-runs';
import { runFigureRoutes } from './routes/run-figures';
import { trackingRoutes } from './routes/tracking';
import { sendRoutes } from './routes/sends';
import { messageRoutes } from './routes/messages';
import { shortLinkRoutes } from './routes/short-links';
import { inboundReportRoutes } from './routes/inbound-reports';
import { smsReplyRoutes } from './routes/sms-replies';
import { bounceRuleRoutes } from './routes/bounce-rules';
import { runSearchRoutes } from './routes/run-search';
import { sendSearchRoutes } from './routes/send-search';
import { officialAccountRoutes } from './routes/official-accounts';
import { metricsRoutes } from './routes/metrics';
import { addressImportRoutes, leadImportRoutes } from './routes/lead-imports';
import { addressRoutes } from './routes/addresses';
import { runListRoutes } from './routes/run-lists';
import { accessLogRoutes } from './routes/access-log';
import { leadSearchRoutes } from './routes/lead-search';
import { usageRoutes } from './routes/usage';
import { labelRoutes } from './routes/labels';
import { consoleRoutes } from './routes/console';
import { apiKeyRoutes } from './routes/api-keys';
import { bounceReportRoutes } from '../inbound/routes/bounces';
import { lineWebhookRoutes } from '../inbound/routes/line-webhook';

export interface AppDeps {
  /** The API's pool (durable commits); its giver ends it. */
  pool: Pool;
  /**
   * The pool clicks and opens are recorded through (db/tracking-queries
   * createTrackingRecorderPool: synchronous_commit off, connections of its
   * own). Its giver ends it. When not given, the app opens one of
   * TRACKING_RECORDER_CONNECTIONS (api/plugins/database.ts) on
   * config.databaseUrl and ends it on close; without a URL, `pool` serves.
   */
  trackingRecorderPool?: Pool;
  temporal: Client;
  config: AppConfig;
  logger: Logger;
  /** Test-only fault injection: never set by the API process (api/server.ts). */
  testHooks?: AppTestHooks;
  /**
   * The time the API stamps on what it records (click, open and unsubscribe
   * events, which the bot rule in domain/bot-clicks judges). The system clock
   * unless given; tests pass one they can move forward.
   */
  clock?: () => Date;
}

export interface AppTestHooks {
  /** Runs just before the transaction creating a wizard run commits (to widen commit races). */
  beforeRunCommit?: (runId: number) => Promise<void>;
}

declare module 'fastify' {
  interface FastifyInstance {
    deps: AppDeps;
  }
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: 5 * 1024 * 1024,
    // Long enough for every path parameter's schema to judge it (a 400 naming it); longer ones get 414.
    // A router option (Fastify 5 deprecates it at the top level: FSTDEP022 at every start).
    routerOptions: { maxParamLength: 2000 },
    // Node's default of 16 KiB for the request line and headers answers 431 (not a documented 4xx)
    // before any schema can judge a long query string, e.g. a URL of 8,000 characters, each
    // percent-encoded to up to 12 bytes; with room for that, the schema answers 400 naming it.
    http: { maxHeaderSize: 128 * 1024 },
    ajv: {
      // Unknown fields are an error, not silently dropped. No coercion: bodies
      // must have the declared types, and query strings and path parameters
      // are converted strictly by the input guard (api/plugins/input-guard.ts).
      customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false },
      plugins: [ajvInputRules],
      onCreate: ajvStrictTimes,
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.decorate('deps', deps);
  // First, before any route: authentication and the per-key rate limit apply to every route registered after them
  // (deny by default), and both follow the route's declared `config.public`.
  // The console's session cookie is read before authentication (its hook runs first).
  await app.register(cookie);
  await app.register(authPlugin);
  await app.register(rateLimit, {
    max: deps.config.apiRateLimitPerMinute,
    timeWindow: 60_000,
    // Per API key (or console user), on exactly the routes that needed one; public routes (tracking, health) are
    // not limited here.
    allowList: (req) => req.apiKey === undefined && req.consoleSession === undefined,
    keyGenerator: (req) =>
      req.apiKey ? `key:${req.apiKey.id}` : req.consoleSession ? `user:${req.consoleSession.userId}` : req.ip,
    errorResponseBuilder: (req, ctx) =>
      new ApiError(
        429,
        `rate limit of ${ctx.max} requests per minute for this ${req.apiKey ? 'API key' : 'console user'} reached; retry in ${ctx.after}`,
      ),
  });
  // Next, still before any route, so that its route table (405s) and documented statuses cover every route.
  await app.register(inputGuard);

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Delivery orchestration API',
        version: '0.1.0',
        description: 'Bulk (wizard) and single sends over email, SMS and LINE, their histories and figures.',
      },
      components: {
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            description: 'API key (`npm run api-key -- create`); X-Api-Key works too',
          },
          consoleSession: {
            type: 'apiKey',
            in: 'cookie',
            name: 'console_session',
            description:
              "a console user's session (POST /v1/console/session), with the scopes of the user's role (viewer: read; operator: read, write; admin: read, write, admin); a request other than GET/HEAD must also send the session's csrfToken in the X-CSRF-Token header (403 without it)",
          },
        },
      },
      security: [{ bearer: [] }],
    },
  });
  // The documentation UI and its assets are public: every route the UI plugin declares says so.
  await app.register(async (docs) => {
    docs.addHook('onRoute', (route) => {
      route.config = { ...route.config, public: true };
    });
    await docs.register(swaggerUi, { routePrefix: '/docs' });
  });

  app.setErrorHandler((err: FastifyError | ApiError, request, reply) => {
    if (err instanceof ApiError) {
      return reply.status(err.statusCode).send(err.body());
    }
    if (err.validation) {
      const first = err.validation[0];
      const params = (first?.params ?? {}) as Record<string, unknown>;
      const base = first?.instancePath?.replace(/^\//, '').replace(/\//g, '.') ?? '';
      const extra = (params.missingProperty ?? params.additionalProperty) as string | undefined;
      const field = [err.validationContext, base, extra].filter(Boolean).join('.');
      const what =
        params.additionalProperty !== undefined
          ? `unknown field "${String(params.additionalProperty)}"`
          : (first?.message ?? err.message);
      return reply.status(400).send({
        statusCode: 400,
        error: 'Bad Request',
        message: `${field || err.validationContext || 'request'}: ${what}`,
        field: field || undefined,
      });
    }
    const status = err.statusCode ?? 500;
    if (status >= 500) {
      request.log.error({ err }, 'request failed');
      const unavailable = isDatabaseUnavailable(err);
      return reply.status(unavailable ? 503 : 500).send({
        statusCode: unavailable ? 503 : 500,
        error: unavailable ? 'Service Unavailable' : 'Internal Server Error',
        message: unavailable
          ? 'the database is not reachable right now; retry shortly'
          : `internal error (request ${request.id})`,
      });
    }
    return reply
      .status(status)
      .send({ statusCode: status, error: err.name || 'Error', message: err.message });
  });

  app.setNotFoundHandler((request, reply) =>
    reply
      .status(404)
      .send({ statusCode: 404, error: 'Not Found', message: `no route ${request.method} ${request.url}` }),
  );

  // The pools, then one named plugin per repository (db/repositories); route plugins name those they use.
  await app.register(databasePlugin);
  for (const plugin of repositoryPlugins) await app.register(plugin);

  await app.register(metricsRoutes);
  app.get('/health', { config: { public: true }, schema: { hide: true } }, async () => ({ ok: true }));
  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());

  await app.register(wizardRunRoutes);
  await app.register(runFigureRoutes);
  await app.register(runListRoutes);
  await app.register(accessLogRoutes);
  await app.register(leadSearchRoutes);
  await app.register(usageRoutes);
  await app.register(labelRoutes);
  await app.register(trackingRoutes);
  await app.register(sendRoutes);
  await app.register(messageRoutes);
  await app.register(shortLinkRoutes);
  // The HTTP face of inbound/: its plugins get what they need handed in.
  await app.register(bounceReportRoutes, {
    pool: deps.pool,
    temporal: deps.temporal,
    bounceDomain: deps.config.bounceDomain,
    invalidAfterErrors: deps.config.invalidAfterErrors,
    quarantineAfterErrors: deps.config.quarantineAfterErrors,
    logger: deps.logger,
  });
  await app.register(inboundReportRoutes);
  await app.register(smsReplyRoutes);
  await app.register(bounceRuleRoutes);
  await app.register(runSearchRoutes);
  await app.register(sendSearchRoutes);
  // Leads, templates and segments after the searches: the OpenAPI document numbers shared schemas
  // (def-N) by first use in a list, and this keeps the numbers it had.
  await app.register(leadRoutes);
  await app.register(templateRoutes);
  await app.register(segmentRoutes);
  await app.register(officialAccountRoutes);
  await app.register(lineWebhookRoutes, { pool: deps.pool });
  await app.register(domainRuleRoutes);
  await app.register(leadImportRoutes);
  await app.register(consoleSessionRoutes);
  await app.register(consoleUserRoutes);
  await app.register(addressImportRoutes);
  await app.register(addressRoutes);
  await app.register(sendingDomainRoutes);
  await app.register(apiKeyRoutes);
  await app.register(consoleRoutes);
  return app;
}

function isDatabaseUnavailable(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return (
    code === 'ECONNREFUSED' ||
    code === '57P01' || // admin shutdown
    code === '57P03' || // cannot connect now
    /Connection terminated|connect ECONNREFUSED/.test((err as Error).message ?? '')
  );
}
