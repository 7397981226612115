// Every route needs an API key (Authorization: Bearer <key> or X-Api-Key), or
// a console user's session cookie (issue 20), unless its declaration says
// `config: { public: true }`: deny by default. A key, when one is sent, is what
// counts; without one, the `console_session` cookie stands for its user, with
// its role's scopes (db/console-user-queries ROLE_SCOPES), and a request other
// than GET/HEAD must also carry the session's CSRF token in X-CSRF-Token (a
// browser sends the cookie on its own, the header only when our page sets it).
// The scope comes from the method (GET/HEAD read, anything else write) unless
// the route raises it with `config: { scope: 'admin' }`. Public routes:
// tracking and unsubscribe (/c /o /u /s, the token is the authority), /health,
// /openapi.json, the documentation UI and the LINE webhook (signed).
// Register this plugin before any route so its hooks see every route.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { timingSafeEqual } from 'node:crypto';
import { findApiKey, type ApiKeyRow, type ApiScope } from '../../db/api-key-queries';
import { ROLE_SCOPES, findSession, type ConsoleSession } from '../../db/console-user-queries';
import type { AppConfig } from '../../config/config';
import { ApiError } from '../errors';
import { ErrorBody } from '../schemas';

declare module 'fastify' {
  interface FastifyRequest {
    apiKey?: ApiKeyRow;
    /** The console user's session, when the request was authenticated by its cookie. */
    consoleSession?: ConsoleSession;
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

export const SESSION_COOKIE = 'console_session';
export const CSRF_HEADER = 'x-csrf-token';

/**
 * Who did it, as runs and imports record it (createdBy, updatedBy, cancelledBy): the API key's name, or the
 * console user's name (as is: the manual's 最終更新ユーザー is a person's name).
 */
export function actorOf(req: FastifyRequest): string | null {
  return req.apiKey?.name ?? req.consoleSession?.name ?? null;
}

export function sessionTimes(config: AppConfig): { idleSeconds: number; maxSeconds: number } {
  return {
    idleSeconds: config.consoleSessionIdleMinutes * 60,
    maxSeconds: config.consoleSessionMaxHours * 3600,
  };
}

/** The session cookie's token as sent, or null; a value no token could have is refused with 401. */
export function presentedSessionToken(req: FastifyRequest): string | null {
  const token = req.cookies?.[SESSION_COOKIE];
  if (token === undefined || token === '') return null;
  if (token.length > 100) throw invalidSession();
  return token;
}

export const invalidSession = () =>
  new ApiError(
    401,
    'the console session is not valid or has expired: log in again (POST /v1/console/session)',
  );

/** GET and HEAD change nothing; any other method needs the session's CSRF token in X-CSRF-Token. */
export function checkCsrf(req: FastifyRequest, session: ConsoleSession): void {
  if (req.method === 'GET' || req.method === 'HEAD') return;
  const sent = req.headers[CSRF_HEADER];
  if (typeof sent !== 'string' || sent === '')
    throw new ApiError(
      403,
      `the X-CSRF-Token header is missing: a ${req.method} with the console session cookie must send the session's csrfToken (from POST or GET /v1/console/session)`,
    );
  const a = Buffer.from(sent, 'utf8');
  const b = Buffer.from(session.csrfToken, 'utf8');
  if (a.length !== b.length || !timingSafeEqual(a, b))
    throw new ApiError(403, "the X-CSRF-Token header is invalid: it is not this console session's csrfToken");
}

/** A route is public only when its own declaration says so; anything else needs a key. */
export const isPublicRoute = (config: { public?: boolean } | undefined): boolean => config?.public === true;

const authPlugin: FastifyPluginAsync = async (app) => {
  app.decorateRequest('apiKey', undefined);
  app.decorateRequest('consoleSession', undefined);
  // The contract is generated from the same declaration the hook below reads: public operations need no key
  // (`security: []`); every other one names the bearer scheme and the answers of the hook.
  app.addHook('onRoute', (route) => {
    const schema = route.schema;
    if (!schema) return;
    if (isPublicRoute(route.config)) {
      (schema as Record<string, unknown>).security = [];
      return;
    }
    (schema as Record<string, unknown>).security = [{ bearer: [] }, { consoleSession: [] }];
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
    const scope = requiredScope(req.method, config.scope);
    const key = presentedKey(req);
    if (!key) return authenticateSession(req, scope);
    if (key.length > 200) throw new ApiError(401, 'the API key is not valid');
    const row = await findApiKey(app.deps.pool, key);
    if (!row) throw new ApiError(401, 'the API key is not valid');
    if (row.revoked_at) throw new ApiError(401, `the API key ${row.prefix}… was revoked`);
    req.apiKey = row;
    // Scopes are independent: a key holds exactly what it was given.
    if (!row.scopes.includes(scope))
      throw new ApiError(
        403,
        `the API key ${row.prefix}… lacks the "${scope}" scope needed for ${req.method} ${req.routeOptions.url}`,
      );
  });

  async function authenticateSession(req: FastifyRequest, scope: ApiScope): Promise<void> {
    const token = presentedSessionToken(req);
    if (!token)
      throw new ApiError(
        401,
        'an API key is required: send "Authorization: Bearer <key>" or "X-Api-Key: <key>" (or log in to the console: POST /v1/console/session)',
      );
    const session = await findSession(app.deps.pool, token, sessionTimes(app.deps.config).idleSeconds);
    if (!session) throw invalidSession();
    req.consoleSession = session;
    checkCsrf(req, session);
    if (!ROLE_SCOPES[session.role].includes(scope))
      throw new ApiError(
        403,
        `the console user ${session.name} (${session.role}) lacks the "${scope}" scope needed for ${req.method} ${req.routeOptions.url}`,
      );
  }
};

// Hooks apply to the whole app, not an encapsulated child (what fastify-plugin does).
(authPlugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
export { authPlugin };
