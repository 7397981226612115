// LINE's official OpenAPI descriptions (dev/line-openapi/, from line/line-openapi, Apache 2.0) as request validators, built
// with openapi-backend (Ajv underneath): the LINE simulator checks every request it receives against
// messaging-api.yml, and the webhook helpers check every body they send against webhook.yml, so a request the
// official description refuses fails the test that made it.
//
// Two adaptations of the descriptions, neither a rule of our own:
// - Only the paths the simulator serves are compiled (compiling all of them takes half a minute); every component
//   stays, so each $ref resolves as published.
// - LINE's polymorphic objects (message, action, flex component, webhook event…) are a base schema with a
//   `discriminator` mapping `type` to sub-schemas that extend the base with allOf. Ajv does not apply such a
//   discriminator, so a message {type: 'text'} without text would pass. Each one is rewritten to what it means:
//   one of the mapped sub-schemas, with the discriminator property equal to its key; the sub-schemas extend a copy
//   of the base without the discriminator.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAPIBackend from 'openapi-backend';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';

export interface ContractRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  query?: Record<string, string | string[]>;
  body?: unknown;
}

export interface ContractCheck {
  valid: boolean;
  /** 'requestBody/messages/0: must have required property 'text'' …; empty when valid. */
  errors: string[];
}

/**
 * Where the descriptions are: LINE_OPENAPI_DIR (a newer copy), else dev/line-openapi/, LINE's
 * official files as published under the Apache License 2.0 (its LICENSE beside them).
 */
export function lineOpenApiDir(): string {
  const candidates = [process.env.LINE_OPENAPI_DIR, join(__dirname, 'line-openapi')].filter(
    (d): d is string => typeof d === 'string' && d.length > 0,
  );
  const found = candidates.find((d) => existsSync(join(d, 'messaging-api.yml')));
  if (!found) throw new Error(`LINE's OpenAPI descriptions not found (tried ${candidates.join(', ')})`);
  return found;
}

type Json = Record<string, unknown>;

/** Replaces each discriminator-with-mapping schema by a oneOf of its mapped schemas (see the file comment). */
export function resolveDiscriminators(definition: Json): Json {
  const doc = structuredClone(definition);
  const schemas = ((doc.components as Json | undefined)?.schemas ?? {}) as Record<string, Json>;
  const prefix = '#/components/schemas/';
  for (const [name, schema] of Object.entries({ ...schemas })) {
    const disc = schema.discriminator as
      { propertyName?: string; mapping?: Record<string, string> } | undefined;
    if (!disc?.propertyName || !disc.mapping) continue;
    const baseName = `${name}__base`;
    const { discriminator: _drop, ...base } = schema;
    schemas[baseName] = base;
    const property = disc.propertyName;
    for (const ref of Object.values(disc.mapping)) {
      const sub = schemas[ref.slice(prefix.length)];
      if (!sub || !Array.isArray(sub.allOf)) continue;
      sub.allOf = (sub.allOf as Json[]).map((part) =>
        part.$ref === `${prefix}${name}` ? { $ref: `${prefix}${baseName}` } : part,
      );
    }
    schemas[name] = {
      ...(typeof schema.description === 'string' ? { description: schema.description } : {}),
      oneOf: Object.entries(disc.mapping).map(([key, ref]) => ({
        allOf: [
          { $ref: ref },
          {
            type: 'object',
            required: [property],
            properties: { [property]: { type: 'string', enum: [key] } },
          },
        ],
      })),
    };
  }
  return doc;
}

function keepPaths(definition: Json, paths: readonly string[] | undefined): Json {
  if (!paths) return definition;
  const all = definition.paths as Record<string, unknown>;
  return { ...definition, paths: Object.fromEntries(paths.map((p) => [p, all[p]])) };
}

export class OpenApiContract {
  private constructor(private readonly api: OpenAPIBackend) {}

  static async load(file: string, paths?: readonly string[]): Promise<OpenApiContract> {
    const raw = parse(readFileSync(file, 'utf8')) as Json;
    const api = new OpenAPIBackend({
      definition: resolveDiscriminators(keepPaths(raw, paths)) as never,
      validate: true,
      strict: false,
      ajvOpts: { strict: false, allErrors: false },
      customizeAjv: (ajv) => {
        addFormats(ajv);
        return ajv;
      },
    });
    await api.init();
    return new OpenApiContract(api);
  }

  check(req: ContractRequest): ContractCheck {
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k.toLowerCase()] = v;
    const operation = this.api.matchOperation({ method: req.method.toLowerCase(), path: req.path, headers });
    if (!operation) return { valid: false, errors: [`${req.method} ${req.path} is not in the description`] };
    const result = this.api.validateRequest(
      { method: req.method.toLowerCase(), path: req.path, headers, query: req.query ?? {}, body: req.body },
      operation,
    );
    if (result.valid) return { valid: true, errors: [] };
    return {
      valid: false,
      errors: (result.errors ?? []).map((e) => `${e.instancePath || '/'}: ${e.message ?? e.keyword}`),
    };
  }
}

const cache = new Map<string, Promise<OpenApiContract>>();

/** The Messaging API paths the simulator serves, validated against messaging-api.yml. Built once per process. */
export function messagingApiContract(): Promise<OpenApiContract> {
  return cached('messaging', () =>
    OpenApiContract.load(join(lineOpenApiDir(), 'messaging-api.yml'), [
      '/v2/bot/message/push',
      '/v2/bot/message/quota',
      '/v2/bot/message/quota/consumption',
    ]),
  );
}

/** Webhook bodies (the dummy operation POST /callback of webhook.yml). Built once per process. */
export function webhookContract(): Promise<OpenApiContract> {
  return cached('webhook', () => OpenApiContract.load(join(lineOpenApiDir(), 'webhook.yml')));
}

function cached(key: string, build: () => Promise<OpenApiContract>): Promise<OpenApiContract> {
  let p = cache.get(key);
  if (!p) {
    p = build();
    cache.set(key, p);
    p.catch(() => cache.delete(key));
  }
  return p;
}
