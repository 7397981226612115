// LINE official accounts (SPEC §7): the channel access token and channel secret go in and never come out. Responses
// say whether each is set and show its last 4 characters; the request log (Fastify's default serializer) records
// method and URL only, never bodies, so the secrets reach no log line either.
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { OfficialAccountRow } from '../../db/line-queries';
import { notFound } from '../errors';
import { repository } from '../plugins/repositories';
import { routesPlugin } from '../plugins/named-plugin';
import { ErrorBody, IdParams, NullableTimestamp, Timestamp, iso } from '../schemas';

const Secret = Type.String({ minLength: 1, maxLength: 1000, pattern: '^\\S+$' });

const CreateBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    channelId: Type.String({ minLength: 1, maxLength: 100 }),
    accessToken: Secret,
    channelSecret: Secret,
  },
  { additionalProperties: false },
);

const PatchBody = Type.Partial(CreateBody, { additionalProperties: false, minProperties: 1 });

export const OfficialAccount = Type.Object(
  {
    id: Type.Integer(),
    name: Type.String(),
    channelId: Type.String(),
    hasAccessToken: Type.Boolean(),
    accessTokenTail: Type.String({ description: 'last 4 characters, masked' }),
    hasChannelSecret: Type.Boolean(),
    channelSecretTail: Type.String({ description: 'last 4 characters, masked' }),
    webhookPath: Type.String({ description: 'the webhook URL path to set in the LINE Developers console' }),
    deleted: Type.Boolean(),
    deletedAt: NullableTimestamp,
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { $id: 'OfficialAccount' },
);

/** '••••abcd': enough to recognise a secret, never enough to use it (short secrets show nothing). */
function tail(secret: string): string {
  return secret.length >= 16 ? `••••${secret.slice(-4)}` : '••••';
}

function accountJson(a: OfficialAccountRow): Static<typeof OfficialAccount> {
  return {
    id: a.id,
    name: a.name,
    channelId: a.channel_id,
    hasAccessToken: a.access_token.length > 0,
    accessTokenTail: tail(a.access_token),
    hasChannelSecret: a.channel_secret.length > 0,
    channelSecretTail: tail(a.channel_secret),
    webhookPath: `/v1/line/webhook/${a.id}`,
    deleted: a.deleted_at !== null,
    deletedAt: iso(a.deleted_at),
    createdAt: iso(a.created_at)!,
    updatedAt: iso(a.updated_at)!,
  };
}

export const officialAccountRoutes: FastifyPluginAsync = routesPlugin(
  { name: 'official-account-routes', dependencies: [repository('officialAccounts')] },
  async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    const accounts = app.officialAccounts;
    const tags = ['official accounts'];

    app.post(
      '/v1/official-accounts',
      {
        schema: {
          tags,
          summary: 'Register a LINE official account',
          body: CreateBody,
          response: { 201: OfficialAccount, 400: ErrorBody },
        },
      },
      async (req, reply) => {
        const b = req.body;
        return reply.status(201).send(accountJson(await accounts.insert(b)));
      },
    );

    app.get(
      '/v1/official-accounts',
      {
        schema: {
          tags,
          summary: 'Official accounts (deleted ones only when asked)',
          querystring: Type.Object(
            { includeDeleted: Type.Optional(Type.Boolean()) },
            { additionalProperties: false },
          ),
          response: { 200: Type.Object({ items: Type.Array(OfficialAccount) }), 400: ErrorBody },
        },
      },
      async (req) => {
        return { items: (await accounts.list(req.query.includeDeleted ?? false)).map(accountJson) };
      },
    );

    app.get(
      '/v1/official-accounts/:id',
      {
        schema: {
          tags,
          summary: 'An official account',
          params: IdParams,
          response: { 200: OfficialAccount, 400: ErrorBody, 404: ErrorBody },
        },
      },
      async (req) => {
        const account = await accounts.get(req.params.id);
        if (!account) throw notFound(`official account ${req.params.id}`);
        return accountJson(account);
      },
    );

    app.patch(
      '/v1/official-accounts/:id',
      {
        schema: {
          tags,
          summary: 'Change an official account (rotate its token or secret)',
          params: IdParams,
          body: PatchBody,
          response: { 200: OfficialAccount, 400: ErrorBody, 404: ErrorBody },
        },
      },
      async (req) => {
        const account = await accounts.change(req.params.id, req.body);
        if (!account) throw notFound(`official account ${req.params.id}`);
        return accountJson(account);
      },
    );

    app.delete(
      '/v1/official-accounts/:id',
      {
        schema: {
          tags,
          summary: 'Delete an official account (runs of its templates that start later go to error)',
          params: IdParams,
          response: { 204: Type.Null(), 400: ErrorBody, 404: ErrorBody },
        },
      },
      async (req, reply) => {
        if (!(await accounts.softDelete(req.params.id))) throw notFound(`official account ${req.params.id}`);
        return reply.status(204).send(null);
      },
    );
  },
);
