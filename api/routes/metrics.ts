// HTTP timing of the API: a histogram labelled by the route pattern
// (`/v1/wizard-runs/:id`), never the raw URL, so labels stay bounded; requests
// that matched no route are labelled "unmatched". The metrics themselves are
// not served on the API's port (where anyone who reaches the API would read
// them): the API process serves GET /metrics on a listener of its own,
// METRICS_HOST:METRICS_PORT, loopback by default (worker/metrics-server.ts,
// started by api/server.ts).
import type { FastifyPluginAsync } from 'fastify';
import { observeHttpRequest } from '../../observability/metrics';

const metricsRoutes: FastifyPluginAsync = async (app) => {
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    observeHttpRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
  });
};

// The timing hook applies to the whole app, not an encapsulated child (what fastify-plugin does).
(metricsRoutes as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
export { metricsRoutes };
