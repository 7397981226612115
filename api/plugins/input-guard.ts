// One gate for every request part the API accepts, before validation:
// - text PostgreSQL cannot store (NUL, unpaired surrogates) and JSON nested
//   deeper than MAX_BODY_DEPTH are refused with a 400 naming the field
//   (domain/input-limits holds the rules);
// - query strings and path parameters are turned into the types their schema
//   declares here, strictly (integers decimal only, booleans true/false), since
//   Ajv's own coercion is off: it would take 0x10 for 16 and, in bodies,
//   12345 for "12345" or 0 and null for false. Bodies are never coerced.
// It also documents, on every route, the statuses any request can get before
// or besides its handler (400, 413, 414, 415, 503).
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { findInputProblem } from '../../domain/input-limits';
import { badRequest } from '../errors';
import { ErrorBody } from '../schemas';

type JsonSchema = Record<string, unknown>;

const DECIMAL_INTEGER = /^-?[0-9]{1,16}$/;
const DECIMAL_NUMBER = /^-?[0-9]{1,16}(\.[0-9]{1,16})?$/;

/** The primitive types a (sub)schema accepts; 'string' when any string goes. */
function acceptedTypes(schema: JsonSchema | undefined): Set<string> {
  const out = new Set<string>();
  if (!schema) return out;
  if (typeof schema.const === 'string' || Array.isArray(schema.enum)) out.add('string');
  const t = schema.type;
  for (const x of Array.isArray(t) ? t : t === undefined ? [] : [t]) out.add(String(x));
  for (const key of ['anyOf', 'oneOf'] as const) {
    const members = schema[key];
    if (Array.isArray(members)) for (const m of members) for (const x of acceptedTypes(m)) out.add(x);
  }
  return out;
}

/** A query or path value as the schema's type, or unchanged when it does not convert (validation then says why). */
export function coerceScalar(schema: JsonSchema | undefined, raw: unknown): unknown {
  if (typeof raw !== 'string') return raw;
  const types = acceptedTypes(schema);
  if (types.size === 0 || types.has('string')) return raw;
  if (types.has('integer') && DECIMAL_INTEGER.test(raw)) return Number(raw);
  if (types.has('number') && DECIMAL_NUMBER.test(raw)) return Number(raw);
  if (types.has('boolean') && (raw === 'true' || raw === 'false')) return raw === 'true';
  return raw;
}

export function coerceValue(schema: JsonSchema | undefined, raw: unknown): unknown {
  if (schema && acceptedTypes(schema).has('array')) {
    const arraySchema = [schema, ...((schema.anyOf as JsonSchema[]) ?? [])].find((s) => s.type === 'array');
    const items = arraySchema?.items as JsonSchema | undefined;
    const list = Array.isArray(raw) ? raw : [raw];
    return list.map((v) => coerceScalar(items, v));
  }
  return coerceScalar(schema, raw);
}

/** Coerces, in place, each property of `values` that `schema` (an object schema) declares. */
function coerceObject(schema: unknown, values: unknown): void {
  if (!schema || typeof values !== 'object' || values === null) return;
  const props = (schema as JsonSchema).properties as Record<string, JsonSchema> | undefined;
  if (!props) return;
  const target = values as Record<string, unknown>;
  for (const [name, sub] of Object.entries(props)) {
    if (target[name] !== undefined) target[name] = coerceValue(sub, target[name]);
  }
}

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

declare module 'fastify' {
  interface FastifyInstance {
    /** Methods some route serves at this path (none: no route has the path at all). */
    allowedMethods(path: string): string[];
  }
}

/** A route URL pattern (`/v1/leads/:id`) as a regular expression over request paths. */
function patternOf(url: string): RegExp {
  const source = url
    .split('/')
    .map((seg) =>
      seg.startsWith(':') ? '[^/]+' : seg === '*' ? '.*' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('/');
  return new RegExp(`^${source}$`);
}

const inputGuard: FastifyPluginAsync = async (app) => {
  const known: Array<{ pattern: RegExp; methods: string[] }> = [];
  // Static route paths (no parameters) and their methods: /v1/leads/import is not a lead id.
  const staticPaths = new Map<string, Set<string>>();
  app.decorate('allowedMethods', (path: string) => {
    const bare = path.split('?')[0] ?? '';
    // The router prefers a static path over a parametric one, and so does Allow.
    const exact = staticPaths.get(bare);
    if (exact) return [...exact].sort();
    const out = new Set<string>();
    for (const r of known) if (r.pattern.test(bare)) for (const m of r.methods) out.add(m);
    return [...out].sort();
  });
  const methodNotAllowed = (reply: FastifyReply, method: string, allowed: string[]) =>
    reply
      .code(405)
      .header('allow', allowed.join(', '))
      .send({
        statusCode: 405,
        error: 'Method Not Allowed',
        message: `${method} is not served at this path; allowed: ${allowed.join(', ')}`,
      });

  // Before parsing: a path some route serves, asked with a method none serves there, is a 405 (not a 404,
  // nor a 400 about a body or a parameter of the route a parametric path happened to match).
  app.addHook('onRequest', async (req, reply) => {
    const path = req.url.split('?')[0] ?? '';
    const matched = req.routeOptions.url;
    if (req.is404 || matched === undefined) {
      const allowed = app.allowedMethods(path);
      if (allowed.length > 0) return methodNotAllowed(reply, req.method, allowed);
      return;
    }
    const exact = staticPaths.get(path);
    if (exact && matched !== path && !exact.has(req.method)) {
      return methodNotAllowed(reply, req.method, [...exact].sort());
    }
  });

  app.addHook('preValidation', async (req) => {
    const parts = [
      ['params', req.params],
      ['querystring', req.query],
      // A whole text or binary body (CSV import, raw mail), or one streamed to the route (background
      // import), is the route's to judge; JSON bodies are checked here.
      [
        'body',
        typeof req.body === 'object' && !Buffer.isBuffer(req.body) && !isStream(req.body)
          ? req.body
          : undefined,
      ],
    ] as const;
    for (const [name, value] of parts) {
      if (value === undefined || value === null) continue;
      const problem = findInputProblem(value, name);
      if (problem) throw badRequest(problem.path, problem.message);
    }
    const schema = req.routeOptions.schema;
    if (schema) {
      coerceObject(schema.params, req.params);
      coerceObject(schema.querystring, req.query);
    }
  });

  app.addHook('onRoute', (route) => {
    const routeMethods = Array.isArray(route.method) ? route.method : [route.method];
    known.push({ pattern: patternOf(route.url), methods: routeMethods });
    if (!route.url.includes(':') && !route.url.includes('*')) {
      const set = staticPaths.get(route.url) ?? new Set<string>();
      for (const m of routeMethods) set.add(m);
      staticPaths.set(route.url, set);
    }
    const schema = route.schema as JsonSchema | undefined;
    if (!schema || schema.hide) return;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const response = (schema.response ?? {}) as Record<string, unknown>;
    const add: Record<string, unknown> = { 400: ErrorBody };
    if (methods.some((m) => BODY_METHODS.has(m))) {
      add[413] = ErrorBody;
      add[415] = ErrorBody;
    }
    // Fastify answers 414 when a path parameter is longer than maxParamLength.
    if (route.url.includes(':')) add[414] = ErrorBody;
    if (route.url.startsWith('/v1/')) add[503] = ErrorBody;
    const merged: Record<string, unknown> = { ...response };
    for (const [code, body] of Object.entries(add)) if (!(code in merged)) merged[code] = body;
    schema.response = merged;
  });
};

// Hooks apply to the whole app, not an encapsulated child (what fastify-plugin does).
(inputGuard as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
export { inputGuard };

function isStream(body: unknown): boolean {
  return typeof (body as { pipe?: unknown } | null)?.pipe === 'function';
}
