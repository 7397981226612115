// `npm run api-key -- create --name X --scopes read,write,admin | list | revoke <id>`
// The key is printed once on create; only its hash and prefix are stored.
import { loadConfig } from '../../config/config';
import { createPool } from '../../db/pool';
import {
  API_SCOPES,
  createApiKey,
  isApiScope,
  listApiKeys,
  revokeApiKey,
  type ApiScope,
} from '../../db/api-key-queries';

const USAGE = `usage:
  npm run api-key -- create --name <name> --scopes read,write,admin
  npm run api-key -- list
  npm run api-key -- revoke <id>`;

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

async function main(args: string[]): Promise<number> {
  const config = loadConfig();
  if (!config.databaseUrl) {
    console.error(
      'DATABASE_URL is needed (with `npm start`, the embedded one is postgres://postgres:postgres@localhost:' +
        config.embeddedPostgresPort +
        '/delivery)',
    );
    return 2;
  }
  const [command, ...rest] = args;
  const pool = createPool(config.databaseUrl, 1);
  try {
    if (command === 'create') {
      const name = option(rest, 'name');
      const scopes = (option(rest, 'scopes') ?? 'read')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      if (!name) throw new UsageError('--name is required');
      const bad = scopes.filter((s) => !isApiScope(s));
      if (bad.length || scopes.length === 0)
        throw new UsageError(`scopes are any of ${API_SCOPES.join(', ')}; got "${bad.join(',')}"`);
      const { key, row } = await createApiKey(pool, name, scopes as ApiScope[]);
      console.error(
        `created key ${row.id} "${row.name}" (${row.scopes.join(',')}); it is shown once, keep it now:`,
      );
      console.log(key);
      return 0;
    }
    if (command === 'list') {
      for (const k of await listApiKeys(pool)) {
        console.log(
          `${k.id}\t${k.prefix}…\t${k.name}\t${k.scopes.join(',')}\t${k.revoked_at ? `revoked ${k.revoked_at.toISOString()}` : 'active'}`,
        );
      }
      return 0;
    }
    if (command === 'revoke') {
      const id = Number(rest[0]);
      if (!Number.isInteger(id) || id < 1) throw new UsageError('revoke needs a key id (see list)');
      const row = await revokeApiKey(pool, id);
      if (!row) {
        console.error(`no API key ${id}`);
        return 1;
      }
      console.log(`revoked key ${row.id} (${row.prefix}…)`);
      return 0;
    }
    throw new UsageError(command ? `unknown command "${command}"` : 'a command is needed');
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`${err.message}\n${USAGE}`);
      return 2;
    }
    throw err;
  } finally {
    await pool.end();
  }
}

class UsageError extends Error {}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
