// Every /v1 route needs an API key (Authorization: Bearer <key> or X-Api-Key).
// The scope comes from the method (GET/HEAD read, anything else write) unless
// the route raises it with `config: { scope: 'admin' }`; a route with its own
// protection opts out with `config: { public: true }`. Tracking, unsubscribe,
// health and the documentation live outside /v1 and stay public.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { findApiKey, type ApiKeyRow, type ApiScope } from '../../db/api-key-queries';
import { ApiError } from '../errors';
import { ErrorBody } from '../schemas';

declare module 'fastify' {
  interface FastifyRequest {
    apiKey?: ApiKeyRow;
  }
  interface FastifyContextConfig {
    scope?: ApiScope;
    public?: boolean;
  }
}

// The LINE webhook checks its own signature (X-Line-Signature).
const PUBLIC_V1_PREFIXES = ['/v1/line/webhook/'];

export function requiredScope(method: string, configured: ApiScope | undefined): ApiScope {
  if (configured) return configured;
  return method === 'GET' || method === 'HEAD' ? 'read' : 'write';
}

export function presentedKey(req: FastifyRequest): string | null {
  const auth = req.headers.authorization;
  if (typeof auth === 'string' && auth.trim() !== '') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth.trim());
    if (!m) throw new ApiError(401, 'the Authorization header must be "Bearer <API key>"');
    return m[1]!;
  }
  const x = req.headers['x-api-key'];
  if (typeof x === 'string' && x.trim() !== '') return x.trim();
  return null;
}

const isPublicPath = (path: string) =>
  !path.startsWith('/v1/') || PUBLIC_V1_PREFIXES.some((p) => path.startsWith(p));

const authPlugin: FastifyPluginAsync = async (app) => {
  app.decorateRequest('apiKey', undefined);
  // The contract shows what the hook below can answer on every protected route,
  // and marks public /v1 routes as needing no key.
  app.addHook('onRoute', (route) => {
    const schema = route.schema;
    if (!schema) return;
    const isPublic =
      isPublicPath(route.url) || (route.config as { public?: boolean } | undefined)?.public === true;
    if (isPublic) {
      if (route.url.startsWith('/v1/')) (schema as Record<string, unknown>).security = [];
      return;
    }
    const response = (schema.response ?? {}) as Record<string, unknown>;
    schema.response = { ...response, 401: ErrorBody, 403: ErrorBody, 429: ErrorBody };
  });
  app.addHook('onRequest', async (req) => {
    const path = req.url.split('?')[0] ?? '';
    if (isPublicPath(path) && path !== '/v1') return;
    const config = req.routeOptions.config ?? {};
    if (config.public) return;
    const key = presentedKey(req);
    if (!key)
      throw new ApiError(
        401,
        'an API key is required: send "Authorization: Bearer <key>" or "X-Api-Key: <key>"',
      );
    if (key.length > 200) throw new ApiError(401, 'the API key is not valid');
    const row = await findApiKey(app.deps.pool, key);
    if (!row) throw new ApiError(401, 'the API key is not valid');
    if (row.revoked_at) throw new ApiError(401, `the API key ${row.prefix}… was revoked`);
    req.apiKey = row;
    const scope = requiredScope(req.method, config.scope);
    // Scopes are independent: a key holds exactly what it was given.
    if (!row.scopes.includes(scope))
      throw new ApiError(
        403,
        `the API key ${row.prefix}… lacks the "${scope}" scope needed for ${req.method} ${path}`,
      );
  });
};

// Hooks apply to the whole app, not an encapsulated child (what fastify-plugin does).
(authPlugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
export { authPlugin };
