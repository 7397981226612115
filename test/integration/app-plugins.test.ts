// The app's plugins declare what they need (api/plugins/named-plugin.ts): a
// route plugin registered without the repository it names does not start,
// and says which one is missing; with its repository it does.
import Fastify from 'fastify';
import { databasePlugin } from '../../api/plugins/database';
import { repositoryPlugins } from '../../api/plugins/repositories';
import { leadRoutes } from '../../api/routes/leads';
import type { AppDeps } from '../../api/app';
import { ajvInputRules, ajvStrictTimes } from '../../api/schemas';
import { createPool } from '../../db/pool';

test('when the lead routes are registered without the leads repository, then the app refuses to start and names it', async () => {
  const app = Fastify();
  await expect(app.register(leadRoutes).ready()).rejects.toThrow(/leads-repository/);
  await app.close();
});

test('when a repository is registered without the database plugin, then the app refuses to start and names it', async () => {
  const app = Fastify();
  await expect(app.register(repositoryPlugins[0]!).ready()).rejects.toThrow(/database/);
  await app.close();
});

test('when the database plugin and the repositories come first, then the lead routes start and reach the repository', async () => {
  const pool = createPool(process.env.TEST_DATABASE_URL_READY!, 1);
  const app = Fastify({ ajv: { plugins: [ajvInputRules], onCreate: ajvStrictTimes } });
  app.decorate('deps', { pool, config: { databaseUrl: '' } } as unknown as AppDeps);
  try {
    await app.register(databasePlugin);
    for (const plugin of repositoryPlugins) await app.register(plugin);
    await app.register(leadRoutes);
    await app.ready();
    const res = await app.inject({ method: 'GET', url: '/v1/leads/2147483647' });
    expect(res.statusCode).toBe(404);
  } finally {
    await app.close();
    await pool.end();
  }
});
