// API keys over HTTP (issue 20, the console's APIキー screen): the same keys
// as `npm run api-key` makes, through the same queries. Admin scope only. The
// key is in the answer to its creation and never again: only its SHA-256 and a
// short prefix are stored. Revoking keeps the row (who had which key, when).
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  API_SCOPES,
  createApiKey,
  listApiKeys,
  revokeApiKey,
  type ApiKeyRow,
  type ApiScope,
} from '../../db/api-key-queries';
import { badRequest, conflict, notFound } from '../errors';
import { routesPlugin } from '../plugins/named-plugin';
import { ErrorBody, IdParams, NullableTimestamp, Timestamp, iso } from '../schemas';

const Scope = Type.Union(
  API_SCOPES.map((s) => Type.Literal(s)),
  { description: 'read (GET), write (other methods), admin (keys, rules, sending domains)' },
);

const ApiKey = Type.Object(
  {
    id: Type.Integer(),
    name: Type.String(),
    prefix: Type.String({ description: 'the first characters of the key, to recognise it' }),
    scopes: Type.Array(Type.String()),
    status: Type.Union([Type.Literal('active'), Type.Literal('revoked')]),
    createdAt: Timestamp,
    revokedAt: NullableTimestamp,
  },
  { $id: 'ApiKey' },
);

const CreatedApiKey = Type.Object(
  {
    key: Type.String({ description: 'the key itself: shown in this answer only, never again' }),
    apiKey: ApiKey,
  },
  { $id: 'CreatedApiKey' },
);

function keyJson(k: ApiKeyRow): Static<typeof ApiKey> {
  return {
    id: k.id,
    name: k.name,
    prefix: k.prefix,
    scopes: k.scopes,
    status: k.revoked_at ? 'revoked' : 'active',
    createdAt: iso(k.created_at)!,
    revokedAt: iso(k.revoked_at),
  };
}

export const apiKeyRoutes: FastifyPluginAsync = routesPlugin({ name: 'api-key-routes' }, async (fastify) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const pool = app.deps.pool;

  app.get(
    '/v1/api-keys',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['api keys'],
        summary: 'Every API key, active and revoked (never the key itself)',
        response: { 200: Type.Object({ items: Type.Array(ApiKey) }) },
      },
    },
    async () => ({ items: (await listApiKeys(pool)).map(keyJson) }),
  );

  app.post(
    '/v1/api-keys',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['api keys'],
        summary: 'Create an API key; the answer holds the key, shown this once',
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 200, description: 'who or what uses it' }),
            scopes: Type.Array(Scope, { minItems: 1, maxItems: API_SCOPES.length }),
          },
          { additionalProperties: false },
        ),
        response: { 201: CreatedApiKey, 400: ErrorBody },
      },
    },
    async (req, reply) => {
      const name = req.body.name.trim();
      if (name === '') throw badRequest('body.name', 'a name is required (not only spaces)');
      const { key, row } = await createApiKey(pool, name, req.body.scopes as ApiScope[]);
      return reply.status(201).send({ key, apiKey: keyJson(row) });
    },
  );

  app.post(
    '/v1/api-keys/:id/revoke',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['api keys'],
        summary:
          'Revoke an API key: it is refused from now on (revoking twice is harmless); a key cannot revoke itself (409: use another admin key, so nobody locks themselves out by mistake)',
        params: IdParams,
        response: { 200: ApiKey, 400: ErrorBody, 404: ErrorBody, 409: ErrorBody },
      },
    },
    async (req) => {
      if (req.apiKey && req.apiKey.id === req.params.id)
        throw conflict(
          `API key ${req.params.id} is the key making this request: revoke it with another admin key`,
        );
      const row = await revokeApiKey(pool, req.params.id);
      if (!row) throw notFound(`API key ${req.params.id}`);
      return keyJson(row);
    },
  );
});
