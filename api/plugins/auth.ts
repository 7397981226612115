// Every route needs an API key (Authorization: Bearer <key> or X-Api-Key)
// unless its declaration says `config: { public: true }`: deny by default.
// The scope comes from the method (GET/HEAD read, anything else write) unless
// the route raises it with `config: { scope: 'admin' }`. Public routes:
// tracking and unsubscribe (/c /o /u /s, the token is the authority), /health,
// /openapi.json, the documentation UI and the LINE webhook (signed).
// Register this plugin before any route so its hooks see every route.
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

/** A route is public only when its own declaration says so; anything else needs a key. */
export const isPublicRoute = (config: { public?: boolean } | undefined): boolean => config?.public === true;

const authPlugin: FastifyPluginAsync = async (app) => {
  app.decorateRequest('apiKey', undefined);
  // The contract is generated from the same declaration the hook below reads: public operations need no key
  // (`security: []`); every other one names the bearer scheme and the answers of the hook.
  app.addHook('onRoute', (route) => {
    const schema = route.schema;
    if (!schema) return;
    if (isPublicRoute(route.config)) {
      (schema as Record<string, unknown>).security = [];
      return;
    }
    (schema as Record<string, unknown>).security = [{ bearer: [] }];
    const response = (schema.response ?? {}) as Record<string, unknown>;
    schema.response = { ...response, 401: ErrorBody, 403: ErrorBody, 429: ErrorBody };
  });
  // Decided by the route the router matched (its declared config), never by the raw request target: the router
  // decodes percent escapes and reads absolute-form targets, so a prefix test on req.url can be spelled around.
  app.addHook('onRequest', async (req) => {
    // Nothing matched: the not-found handler answers, and it serves nothing.
    if (req.is404) return;
    const config = req.routeOptions.config ?? {};
    if (isPublicRoute(config)) return;
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
        `the API key ${row.prefix}… lacks the "${scope}" scope needed for ${req.method} ${req.routeOptions.url}`,
      );
  });
};

// Hooks apply to the whole app, not an encapsulated child (what fastify-plugin does).
(authPlugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
export { authPlugin };
