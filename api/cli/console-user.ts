// `npm run console-user -- create --name admin --role admin [--password-stdin]` | list |
// set-role --name <name> --role <role> | reset-password --name <name> [--password-stdin] | delete --name <name>
// Console users (issue 20). Without --password-stdin a password is generated and printed once (stdout, alone
// on its line, so `PW=$(npm run -s console-user -- create …)` keeps it); only its argon2id hash is stored.
import { loadConfig } from '../../config/config';
import { createPool } from '../../db/pool';
import {
  CONSOLE_ROLES,
  LastAdminError,
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
  USER_NAME_PATTERN,
  createConsoleUser,
  deleteConsoleUser,
  generatePassword,
  isConsoleRole,
  listConsoleUsers,
  updateConsoleUser,
  type ConsoleRole,
} from '../../db/console-user-queries';

const USAGE = `usage:
  npm run console-user -- create --name <name> --role viewer|operator|admin [--password-stdin]
  npm run console-user -- list
  npm run console-user -- set-role --name <name> --role viewer|operator|admin
  npm run console-user -- reset-password --name <name> [--password-stdin]
  npm run console-user -- delete --name <name>
Without --password-stdin, a password is generated and printed once.`;

class UsageError extends Error {}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

function nameOption(args: string[]): string {
  const name = option(args, 'name');
  if (!name) throw new UsageError('--name is required');
  if (!new RegExp(USER_NAME_PATTERN).test(name))
    throw new UsageError(
      `--name "${name}": 1 to 64 letters, digits, ".", "_", "@" or "-", starting with a letter or digit`,
    );
  return name;
}

function roleOption(args: string[]): ConsoleRole {
  const role = option(args, 'role');
  if (!role) throw new UsageError('--role is required');
  if (!isConsoleRole(role))
    throw new UsageError(`--role is one of ${CONSOLE_ROLES.join(', ')}; got "${role}"`);
  return role;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** The password from stdin (--password-stdin) or a generated one, which is then printed. */
async function passwordFrom(args: string[]): Promise<{ password: string; generated: boolean }> {
  if (!args.includes('--password-stdin')) return { password: generatePassword(), generated: true };
  const password = await readStdin();
  if (password.length < MIN_PASSWORD_LENGTH || password.length > MAX_PASSWORD_LENGTH)
    throw new UsageError(
      `the password on stdin must have ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters; it has ${password.length}`,
    );
  return { password, generated: false };
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
      const name = nameOption(rest);
      const role = roleOption(rest);
      const { password, generated } = await passwordFrom(rest);
      const row = await createConsoleUser(pool, name, role, password);
      if (!row) {
        console.error(`a console user named ${name} exists already`);
        return 1;
      }
      if (generated) {
        console.error(
          `created console user "${row.name}" (${row.role}); its password is shown once, keep it now:`,
        );
        console.log(password);
      } else console.error(`created console user "${row.name}" (${row.role})`);
      return 0;
    }
    if (command === 'list') {
      for (const u of await listConsoleUsers(pool))
        console.log(`${u.name}\t${u.role}\tcreated ${u.created_at.toISOString()}`);
      return 0;
    }
    if (command === 'set-role') {
      const name = nameOption(rest);
      const role = roleOption(rest);
      const row = await updateConsoleUser(pool, name, { role });
      if (!row) {
        console.error(`no console user ${name}`);
        return 1;
      }
      console.error(`console user "${row.name}" is now ${row.role}`);
      return 0;
    }
    if (command === 'reset-password') {
      const name = nameOption(rest);
      const { password, generated } = await passwordFrom(rest);
      const row = await updateConsoleUser(pool, name, { password });
      if (!row) {
        console.error(`no console user ${name}`);
        return 1;
      }
      if (generated) {
        console.error(`new password of "${row.name}" (its sessions are ended); shown once, keep it now:`);
        console.log(password);
      } else console.error(`password of "${row.name}" changed; its sessions are ended`);
      return 0;
    }
    if (command === 'delete') {
      const name = nameOption(rest);
      if (!(await deleteConsoleUser(pool, name))) {
        console.error(`no console user ${name}`);
        return 1;
      }
      console.error(`deleted console user "${name}" and its sessions`);
      return 0;
    }
    throw new UsageError(command ? `unknown command "${command}"` : 'a command is needed');
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`${err.message}\n${USAGE}`);
      return 2;
    }
    if (err instanceof LastAdminError) {
      console.error(err.message);
      return 1;
    }
    throw err;
  } finally {
    await pool.end();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
