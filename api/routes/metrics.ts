// GET /metrics: the process's Prometheus metrics (observability/metrics), public
// like /health (outside /v1, so the auth plugin lets it through and the rate
// limit, which only counts API keys, ignores it) and hidden from the OpenAPI
// document. The same plugin times every request: a histogram labelled by the
// route pattern (`/v1/wizard-runs/:id`), never the raw URL, so labels stay
// bounded; requests that matched no route are labelled "unmatched".
import type { FastifyPluginAsync } from 'fastify';
import { metricsContentType, metricsText, observeHttpRequest } from '../../observability/metrics';

const metricsRoutes: FastifyPluginAsync = async (app) => {
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    observeHttpRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
  });

  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    const text = await metricsText();
    return reply.header('cache-control', 'no-store').type(metricsContentType).send(text);
  });
};

// The timing hook applies to the whole app, not an encapsulated child (what fastify-plugin does).
(metricsRoutes as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
export { metricsRoutes };
