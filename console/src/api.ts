// The console's one way to the API: openapi-fetch typed by api-types.ts, which
// is generated from the API's OpenAPI document (npm run console:types), so a
// screen cannot call a route or read a field the API does not declare. The
// session cookie authenticates; state changes carry the session's CSRF token;
// Accept-Language asks the API for labels in the console's language.
import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './api-types';
import { currentLanguage } from './i18n';

export type Schemas = components['schemas'];

let csrfToken = '';
let onUnauthorized: () => void = () => undefined;

export function setCsrfToken(token: string): void {
  csrfToken = token;
}

/** Called when the API answers 401 (the session ended): the app shows the login form. */
export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

export function withConsoleHeaders(method: string, headers: Headers): Headers {
  headers.set('Accept-Language', currentLanguage());
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers.set('X-CSRF-Token', csrfToken);
  return headers;
}

const consoleHeaders: Middleware = {
  onRequest({ request }) {
    withConsoleHeaders(request.method, request.headers);
    return request;
  },
  onResponse({ response, request }) {
    if (response.status === 401 && !new URL(request.url).pathname.startsWith('/v1/console/session'))
      onUnauthorized();
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: location.origin, credentials: 'same-origin' });
api.use(consoleHeaders);

/** The API's error message (every 4xx/5xx answers { message }), or a generic text. */
export function errorMessage(error: unknown, fallback: string): string {
  if (error && typeof error === 'object' && 'message' in error && typeof error.message === 'string')
    return error.message;
  return fallback;
}

type JsonOf<R> = R extends { content: { 'application/json': infer B } } ? B : never;

/** The JSON body of a route's 200 answer, e.g. `Answer<'/v1/sends', 'get'>`. */
export type Answer<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends {
  responses: { 200: infer R };
}
  ? JsonOf<R>
  : never;
