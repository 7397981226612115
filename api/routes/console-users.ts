// Console users, managed by admins (issue 20). The first admin comes from the CLI (npm run console-user).
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  LastAdminError,
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
  ROLE_SCOPES,
  USER_NAME_PATTERN,
  createConsoleUser,
  deleteConsoleUser,
  generatePassword,
  listConsoleUsers,
  updateConsoleUser,
  type ConsoleUserRow,
} from '../../db/console-user-queries';
import { conflict, notFound } from '../errors';
import { routesPlugin } from '../plugins/named-plugin';
import { ErrorBody, Timestamp } from '../schemas';
import { ConsoleRoleSchema } from './console-session';

const UserName = Type.String({
  pattern: USER_NAME_PATTERN,
  description:
    'login name: 1 to 64 letters, digits, ".", "_", "@" or "-", starting with a letter or digit; unique whatever its case',
});

const Password = Type.String({
  minLength: MIN_PASSWORD_LENGTH,
  maxLength: MAX_PASSWORD_LENGTH,
  description: `at least ${MIN_PASSWORD_LENGTH} characters`,
});

const ConsoleUser = Type.Object(
  {
    name: Type.String(),
    role: ConsoleRoleSchema,
    scopes: Type.Array(Type.String(), { description: "the API scopes of the user's role" }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    passwordChangedAt: Timestamp,
  },
  { $id: 'ConsoleUser' },
);

const CreatedUser = Type.Object({
  ...ConsoleUser.properties,
  password: Type.Optional(
    Type.String({ description: 'the generated password, shown this once (only when none was given)' }),
  ),
});

const CreateUser = Type.Object(
  {
    name: UserName,
    role: ConsoleRoleSchema,
    password: Type.Optional({
      ...Password,
      description: `${Password.description}; omitted: one is generated`,
    }),
  },
  { additionalProperties: false },
);

const PatchUser = Type.Object(
  {
    role: Type.Optional(ConsoleRoleSchema),
    password: Type.Optional({
      ...Password,
      description: `${Password.description}; ends the user's other sessions`,
    }),
  },
  { additionalProperties: false, minProperties: 1 },
);

const NameParams = Type.Object({ name: UserName });

function userJson(u: ConsoleUserRow): Static<typeof ConsoleUser> {
  return {
    name: u.name,
    role: u.role,
    scopes: [...ROLE_SCOPES[u.role]],
    createdAt: u.created_at.toISOString(),
    updatedAt: u.updated_at.toISOString(),
    passwordChangedAt: u.password_changed_at.toISOString(),
  };
}

const rethrowLastAdmin = (err: unknown): never => {
  if (err instanceof LastAdminError) throw conflict(err.message);
  throw err;
};

export const consoleUserRoutes: FastifyPluginAsync = routesPlugin(
  { name: 'console-user-routes' },
  async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    const { pool } = app.deps;

    app.get(
      '/v1/console/users',
      {
        config: { scope: 'admin' },
        schema: {
          tags: ['console'],
          summary: 'Console users, by name',
          response: { 200: Type.Object({ items: Type.Array(ConsoleUser) }) },
        },
      },
      async () => ({ items: (await listConsoleUsers(pool)).map(userJson) }),
    );

    app.post(
      '/v1/console/users',
      {
        config: { scope: 'admin' },
        schema: {
          tags: ['console'],
          summary: 'Create a console user (without a password, one is generated and answered once)',
          body: CreateUser,
          response: { 201: CreatedUser, 400: ErrorBody, 409: ErrorBody },
        },
      },
      async (req, reply) => {
        const generated = req.body.password === undefined ? generatePassword() : undefined;
        const row = await createConsoleUser(
          pool,
          req.body.name,
          req.body.role,
          req.body.password ?? generated!,
        );
        if (!row) throw conflict(`a console user named ${req.body.name} exists already`);
        return reply.status(201).send({ ...userJson(row), ...(generated ? { password: generated } : {}) });
      },
    );

    app.patch(
      '/v1/console/users/:name',
      {
        config: { scope: 'admin' },
        schema: {
          tags: ['console'],
          summary: "Change a console user's role or password",
          description:
            "A new role counts from the user's next request; a new password ends the user's sessions (but the one making the change). The last admin cannot be demoted (409).",
          params: NameParams,
          body: PatchUser,
          response: { 200: ConsoleUser, 400: ErrorBody, 404: ErrorBody, 409: ErrorBody },
        },
      },
      async (req) => {
        const row = await updateConsoleUser(pool, req.params.name, req.body, req.consoleSession?.id).catch(
          rethrowLastAdmin,
        );
        if (!row) throw notFound(`console user ${req.params.name}`);
        return userJson(row);
      },
    );

    app.delete(
      '/v1/console/users/:name',
      {
        config: { scope: 'admin' },
        schema: {
          tags: ['console'],
          summary: 'Delete a console user and end its sessions (the last admin cannot be deleted: 409)',
          params: NameParams,
          response: { 204: Type.Null(), 400: ErrorBody, 404: ErrorBody, 409: ErrorBody },
        },
      },
      async (req, reply) => {
        const deleted = await deleteConsoleUser(pool, req.params.name).catch(rethrowLastAdmin);
        if (!deleted) throw notFound(`console user ${req.params.name}`);
        return reply.status(204).send(null);
      },
    );
  },
);
