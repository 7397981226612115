// LINE official accounts (SPEC §7): the channel access token and channel secret go in and never come out. Responses
// say whether each is set and show its last 4 characters; the request log (Fastify's default serializer) records
// method and URL only, never bodies, so the secrets reach no log line either.
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { OfficialAccountRow } from '../../db/line-queries';
import { notFound } from '../errors';
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

export const officialAccountRoutes: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { pool } = app.deps;
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
      const res = await pool.query<OfficialAccountRow>(
        `INSERT INTO official_account (name, channel_id, access_token, channel_secret, created_at, updated_at)
         VALUES ($1, $2, $3, $4, now(), now()) RETURNING *`,
        [b.name, b.channelId, b.accessToken, b.channelSecret],
      );
      return reply.status(201).send(accountJson(res.rows[0]!));
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
      const res = await pool.query<OfficialAccountRow>(
        'SELECT * FROM official_account WHERE $1 OR deleted_at IS NULL ORDER BY id',
        [req.query.includeDeleted ?? false],
      );
      return { items: res.rows.map(accountJson) };
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
      const res = await pool.query<OfficialAccountRow>('SELECT * FROM official_account WHERE id = $1', [
        req.params.id,
      ]);
      if (!res.rows[0]) throw notFound(`official account ${req.params.id}`);
      return accountJson(res.rows[0]);
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
      const b = req.body;
      const res = await pool.query<OfficialAccountRow>(
        `UPDATE official_account
            SET name = coalesce($2, name), channel_id = coalesce($3, channel_id),
                access_token = coalesce($4, access_token), channel_secret = coalesce($5, channel_secret), updated_at = now()
          WHERE id = $1 AND deleted_at IS NULL RETURNING *`,
        [req.params.id, b.name ?? null, b.channelId ?? null, b.accessToken ?? null, b.channelSecret ?? null],
      );
      if (!res.rows[0]) throw notFound(`official account ${req.params.id}`);
      return accountJson(res.rows[0]);
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
      const res = await pool.query(
        'UPDATE official_account SET deleted_at = coalesce(deleted_at, now()), updated_at = now() WHERE id = $1',
        [req.params.id],
      );
      if (res.rowCount === 0) throw notFound(`official account ${req.params.id}`);
      return reply.status(204).send(null);
    },
  );
};
