// The console's login, session and logout (issue 20: people, not keys). Public in the auth plugin's sense (no
// API key is asked for) but each route does its own checks: the login its throttle and the password, the
// others the session cookie (and the logout the CSRF token, as every state change made with the cookie).
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  CONSOLE_ROLES,
  MAX_PASSWORD_LENGTH,
  ROLE_SCOPES,
  clearLoginFailures,
  createSession,
  deleteDeadSessions,
  deleteSession,
  findConsoleUser,
  findSession,
  loginLockedForSeconds,
  recordLoginFailure,
  verifyPassword,
  type ConsoleSession,
} from '../../db/console-user-queries';
import type { AppConfig } from '../../config/config';
import { ApiError } from '../errors';
import {
  SESSION_COOKIE,
  checkCsrf,
  invalidSession,
  presentedSessionToken,
  sessionTimes,
} from '../plugins/auth';
import { routesPlugin } from '../plugins/named-plugin';
import { ErrorBody } from '../schemas';

const Login = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 200, description: "the console user's name" }),
    password: Type.String({ minLength: 1, maxLength: MAX_PASSWORD_LENGTH }),
  },
  { additionalProperties: false },
);

export const ConsoleRoleSchema = Type.Union(
  [Type.Literal(CONSOLE_ROLES[0]), Type.Literal(CONSOLE_ROLES[1]), Type.Literal(CONSOLE_ROLES[2])],
  {
    description:
      'viewer: read (GET); operator: read and write; admin: read, write and admin (users, API keys, rules)',
  },
);

const SessionBody = Type.Object(
  {
    user: Type.Object({
      name: Type.String(),
      role: ConsoleRoleSchema,
      scopes: Type.Array(Type.String(), { description: "the API scopes of the user's role" }),
    }),
    csrfToken: Type.String({
      description:
        'send it in the X-CSRF-Token header with every request other than GET/HEAD made with the session cookie',
    }),
    expiresAt: Type.String({
      format: 'date-time',
      description: 'the absolute end of the session (CONSOLE_SESSION_MAX_HOURS after the login)',
    }),
    idleTimeoutSeconds: Type.Integer({
      description: 'the session ends when unused for this long (CONSOLE_SESSION_IDLE_MINUTES)',
    }),
  },
  { $id: 'ConsoleSession' },
);

function sessionJson(s: ConsoleSession, config: AppConfig): Static<typeof SessionBody> {
  return {
    user: { name: s.name, role: s.role, scopes: [...ROLE_SCOPES[s.role]] },
    csrfToken: s.csrfToken,
    expiresAt: s.expiresAt.toISOString(),
    idleTimeoutSeconds: sessionTimes(config).idleSeconds,
  };
}

const COOKIE_OPTIONS = { httpOnly: true, secure: true, sameSite: 'strict', path: '/' } as const;

function clearCookie(reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, COOKIE_OPTIONS);
}

const WRONG_CREDENTIALS = 'the user name or the password is wrong';

export const consoleSessionRoutes: FastifyPluginAsync = routesPlugin(
  { name: 'console-session-routes' },
  async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    const { pool, config } = app.deps;
    const throttle = {
      maxFailuresPerUser: config.consoleLoginMaxFailures,
      maxFailuresPerIp: config.consoleLoginMaxFailuresPerIp,
      windowSeconds: config.consoleLoginWindowMinutes * 60,
    };

    app.post(
      '/v1/console/session',
      {
        config: { public: true },
        schema: {
          tags: ['console'],
          summary: 'Log in to the console',
          description: [
            'Sets the `console_session` cookie (HttpOnly; Secure; SameSite=Strict; Path=/) and answers the user',
            'and the CSRF token. Wrong credentials get 401 with one message whether or not the user exists. After',
            'CONSOLE_LOGIN_MAX_FAILURES failed logins for one user name (or CONSOLE_LOGIN_MAX_FAILURES_PER_IP from',
            'one address) within CONSOLE_LOGIN_WINDOW_MINUTES, logins get 429 with Retry-After, correct passwords',
            'too, until the oldest failure leaves the window; a successful login resets the count of its user name.',
          ].join(' '),
          body: Login,
          response: { 200: SessionBody, 400: ErrorBody, 401: ErrorBody, 429: ErrorBody },
        },
      },
      async (req, reply) => {
        const { username, password } = req.body;
        const wait = await loginLockedForSeconds(pool, username, req.ip, throttle);
        if (wait > 0) {
          const err = new ApiError(
            429,
            `too many failed logins for this user name or from this address; retry in ${wait} s`,
          );
          return reply.status(429).header('retry-after', String(wait)).send(err.body());
        }
        const user = await findConsoleUser(pool, username);
        // An unknown user is checked against a stand-in hash: the same work, the same answer.
        const ok = await verifyPassword(user?.password_hash ?? null, password);
        if (!user || !ok) {
          await recordLoginFailure(pool, username, req.ip, throttle.windowSeconds);
          throw new ApiError(401, WRONG_CREDENTIALS);
        }
        await clearLoginFailures(pool, username);
        const times = sessionTimes(config);
        // The browser's previous session (if any) ends with this login; so do sessions nobody can use any more.
        const previous = req.cookies[SESSION_COOKIE];
        if (previous && previous.length <= 100) await deleteSession(pool, previous);
        await deleteDeadSessions(pool, times.idleSeconds);
        const { token, session } = await createSession(pool, user, times.maxSeconds);
        reply.setCookie(SESSION_COOKIE, token, COOKIE_OPTIONS);
        return sessionJson(session, config);
      },
    );

    app.get(
      '/v1/console/session',
      {
        config: { public: true },
        schema: {
          tags: ['console'],
          summary: "The console session's user and CSRF token (401 without a live session)",
          response: { 200: SessionBody, 401: ErrorBody },
        },
      },
      async (req) => {
        const token = presentedSessionToken(req);
        if (!token) throw new ApiError(401, 'no console session: log in with POST /v1/console/session');
        const session = await findSession(pool, token, sessionTimes(config).idleSeconds);
        if (!session) throw invalidSession();
        return sessionJson(session, config);
      },
    );

    app.delete(
      '/v1/console/session',
      {
        config: { public: true },
        schema: {
          tags: ['console'],
          summary: 'Log out: the session is deleted and the cookie cleared',
          description:
            'Needs X-CSRF-Token (403 without it) when the cookie is a live session; without one there is nothing to end, and the answer is 204 as well.',
          response: { 204: Type.Null(), 401: ErrorBody, 403: ErrorBody },
        },
      },
      async (req, reply) => {
        const token = presentedSessionToken(req);
        const session = token ? await findSession(pool, token, sessionTimes(config).idleSeconds) : null;
        if (session) {
          checkCsrf(req, session);
          await deleteSession(pool, token!);
        }
        clearCookie(reply);
        return reply.status(204).send(null);
      },
    );
  },
);
