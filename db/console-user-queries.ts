// Console users (issue 20: people, not keys), their sessions and the failed
// logins that throttle guessing. A role stands for a set of API scopes; the
// password is stored as an argon2id PHC string; a session token is 32 random
// bytes shown once (in the cookie) and stored only as its SHA-256.
import { createHash, randomBytes } from 'node:crypto';
import { hash, verify, type Algorithm } from '@node-rs/argon2';
import type { Pool } from 'pg';
import type { ApiScope } from './api-key-queries';
import { inTransaction, type Queryable } from './pool';

export const CONSOLE_ROLES = ['viewer', 'operator', 'admin'] as const;
export type ConsoleRole = (typeof CONSOLE_ROLES)[number];

/** What each role may do, in the API's scopes (api/plugins/auth.ts). */
export const ROLE_SCOPES: Readonly<Record<ConsoleRole, readonly ApiScope[]>> = {
  viewer: ['read'],
  operator: ['read', 'write'],
  admin: ['read', 'write', 'admin'],
};

export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 1024;
/** Letters, digits and . _ @ -, starting with a letter or digit. */
export const USER_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$';

export function isConsoleRole(s: string): s is ConsoleRole {
  return (CONSOLE_ROLES as readonly string[]).includes(s);
}

export interface ConsoleUserRow {
  id: number;
  name: string;
  role: ConsoleRole;
  password_hash: string;
  created_at: Date;
  updated_at: Date;
  password_changed_at: Date;
}

// The package's Algorithm is an ambient const enum (not importable as a value under isolatedModules): 2 is Argon2id.
const ARGON2ID = 2 as Algorithm;
// OWASP's first argon2id configuration: 19 MiB, 2 passes, 1 lane (the package's defaults, stated here on purpose).
const ARGON2_OPTIONS = { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 };

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2_OPTIONS);
}

let dummyHash: Promise<string> | undefined;

/**
 * Checks a password against a stored hash. Without a hash (no such user) it checks against a hash of a
 * random password made once, so an unknown user costs the same argon2 work as a known one.
 */
export async function verifyPassword(stored: string | null, password: string): Promise<boolean> {
  if (stored === null) {
    dummyHash ??= hashPassword(randomBytes(24).toString('base64url'));
    await verify(await dummyHash, password).catch(() => false);
    return false;
  }
  try {
    return await verify(stored, password);
  } catch {
    return false;
  }
}

/** 24 characters of base64url (144 random bits). */
export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}

export async function createConsoleUser(
  db: Queryable,
  name: string,
  role: ConsoleRole,
  password: string,
): Promise<ConsoleUserRow | null> {
  const passwordHash = await hashPassword(password);
  const res = await db.query<ConsoleUserRow>(
    `INSERT INTO console_user (name, role, password_hash) VALUES ($1, $2, $3)
     ON CONFLICT ((lower(name))) DO NOTHING RETURNING *`,
    [name, role, passwordHash],
  );
  return res.rows[0] ?? null;
}

export async function findConsoleUser(db: Queryable, name: string): Promise<ConsoleUserRow | null> {
  const res = await db.query<ConsoleUserRow>('SELECT * FROM console_user WHERE lower(name) = lower($1)', [
    name,
  ]);
  return res.rows[0] ?? null;
}

export async function listConsoleUsers(db: Queryable): Promise<ConsoleUserRow[]> {
  return (await db.query<ConsoleUserRow>('SELECT * FROM console_user ORDER BY lower(name)')).rows;
}

export class LastAdminError extends Error {
  constructor(what: string) {
    super(`${what}: it is the last admin, and without one nobody can manage users; make another admin first`);
  }
}

/**
 * Changes a user's role and/or password. A new password ends the user's sessions (but the one given in
 * `keepSessionId`, the session that made the change). Refuses (LastAdminError) to demote the last admin.
 * Null when there is no such user.
 */
export async function updateConsoleUser(
  pool: Pool,
  name: string,
  change: { role?: ConsoleRole; password?: string },
  keepSessionId?: string,
): Promise<ConsoleUserRow | null> {
  const passwordHash = change.password === undefined ? null : await hashPassword(change.password);
  return inTransaction(pool, async (client) => {
    const user = await lockUserAndAdmins(client, name);
    if (!user) return null;
    if (change.role !== undefined && change.role !== 'admin' && user.role === 'admin' && user.admins <= 1)
      throw new LastAdminError(`${user.name} cannot become ${change.role}`);
    const res = await client.query<ConsoleUserRow>(
      `UPDATE console_user SET role = coalesce($2, role), password_hash = coalesce($3, password_hash),
         password_changed_at = CASE WHEN $3::text IS NULL THEN password_changed_at ELSE now() END,
         updated_at = now()
       WHERE id = $1 RETURNING *`,
      [user.id, change.role ?? null, passwordHash],
    );
    if (passwordHash !== null)
      await client.query('DELETE FROM console_session WHERE user_id = $1 AND id IS DISTINCT FROM $2', [
        user.id,
        keepSessionId ?? null,
      ]);
    return res.rows[0]!;
  });
}

/** Deletes a user and its sessions; false when there is none. Refuses (LastAdminError) the last admin. */
export async function deleteConsoleUser(pool: Pool, name: string): Promise<boolean> {
  return inTransaction(pool, async (client) => {
    const user = await lockUserAndAdmins(client, name);
    if (!user) return false;
    if (user.role === 'admin' && user.admins <= 1) throw new LastAdminError(`${user.name} cannot be deleted`);
    await client.query('DELETE FROM console_user WHERE id = $1', [user.id]);
    return true;
  });
}

/** Locks the admins' rows (so two demotions cannot both see "another admin is left") and the user's. */
async function lockUserAndAdmins(
  client: Queryable,
  name: string,
): Promise<{ id: number; name: string; role: ConsoleRole; admins: number } | null> {
  const admins = await client.query(
    `SELECT id FROM console_user WHERE role = 'admin' ORDER BY id FOR UPDATE`,
  );
  const res = await client.query<{ id: number; name: string; role: ConsoleRole }>(
    'SELECT id, name, role FROM console_user WHERE lower(name) = lower($1) FOR UPDATE',
    [name],
  );
  const user = res.rows[0];
  return user ? { ...user, admins: admins.rowCount ?? 0 } : null;
}

// --- sessions ---

export interface ConsoleSession {
  /** The session row's id (bigint, as a string). */
  id: string;
  userId: number;
  name: string;
  role: ConsoleRole;
  csrfToken: string;
  expiresAt: Date;
}

export function hashSessionToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Opens a session; the token (for the cookie) is returned once and stored only as its hash. */
export async function createSession(
  db: Queryable,
  user: { id: number; name: string; role: ConsoleRole },
  maxSeconds: number,
): Promise<{ token: string; session: ConsoleSession }> {
  const token = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(32).toString('base64url');
  const res = await db.query<{ id: string; expires_at: Date }>(
    `INSERT INTO console_session (token_hash, user_id, csrf_token, expires_at)
     VALUES ($1, $2, $3, now() + make_interval(secs => $4)) RETURNING id, expires_at`,
    [hashSessionToken(token), user.id, csrfToken, maxSeconds],
  );
  const row = res.rows[0]!;
  return {
    token,
    session: {
      id: row.id,
      userId: user.id,
      name: user.name,
      role: user.role,
      csrfToken,
      expiresAt: row.expires_at,
    },
  };
}

/**
 * The live session of a token, touched (its idle clock restarts); null when there is none, or it passed its
 * absolute expiry, or it was idle longer than `idleSeconds`. The user's role is read now, so a changed role
 * counts from the next request.
 */
export async function findSession(
  db: Queryable,
  token: string,
  idleSeconds: number,
): Promise<ConsoleSession | null> {
  const res = await db.query<{
    id: string;
    user_id: number;
    name: string;
    role: ConsoleRole;
    csrf_token: string;
    expires_at: Date;
  }>(
    `UPDATE console_session s SET last_seen_at = now()
     FROM console_user u
     WHERE s.token_hash = $1 AND u.id = s.user_id AND s.expires_at > now()
       AND s.last_seen_at > now() - make_interval(secs => $2)
     RETURNING s.id, s.user_id, u.name, u.role, s.csrf_token, s.expires_at`,
    [hashSessionToken(token), idleSeconds],
  );
  const r = res.rows[0];
  return r
    ? {
        id: r.id,
        userId: r.user_id,
        name: r.name,
        role: r.role,
        csrfToken: r.csrf_token,
        expiresAt: r.expires_at,
      }
    : null;
}

export async function deleteSession(db: Queryable, token: string): Promise<void> {
  await db.query('DELETE FROM console_session WHERE token_hash = $1', [hashSessionToken(token)]);
}

/** Sessions past their absolute expiry or idle longer than `idleSeconds`: nobody can use them any more. */
export async function deleteDeadSessions(db: Queryable, idleSeconds: number): Promise<void> {
  await db.query(
    'DELETE FROM console_session WHERE expires_at <= now() OR last_seen_at <= now() - make_interval(secs => $1)',
    [idleSeconds],
  );
}

// --- login throttling ---

export interface LoginThrottle {
  maxFailuresPerUser: number;
  maxFailuresPerIp: number;
  windowSeconds: number;
}

/**
 * Seconds until a login for this user name from this address may be tried again, or 0 when it may now:
 * while `max` failures (per user name, or per address) lie within the window, logins are locked; the lock
 * ends when the oldest of those leaves the window. User names count case-insensitively.
 */
export async function loginLockedForSeconds(
  db: Queryable,
  username: string,
  ip: string,
  t: LoginThrottle,
): Promise<number> {
  const res = await db.query<{ wait: string | null }>(
    `SELECT greatest(
       (SELECT extract(epoch FROM at + make_interval(secs => $3) - now()) FROM console_login_failure
         WHERE username = lower($1) AND at > now() - make_interval(secs => $3)
         ORDER BY at DESC OFFSET ($4::int - 1) LIMIT 1),
       (SELECT extract(epoch FROM at + make_interval(secs => $3) - now()) FROM console_login_failure
         WHERE ip = $2 AND at > now() - make_interval(secs => $3)
         ORDER BY at DESC OFFSET ($5::int - 1) LIMIT 1)) AS wait`,
    [username, ip, t.windowSeconds, t.maxFailuresPerUser, t.maxFailuresPerIp],
  );
  const wait = Number(res.rows[0]?.wait ?? 0);
  return wait > 0 ? Math.ceil(wait) : 0;
}

export async function recordLoginFailure(
  db: Queryable,
  username: string,
  ip: string,
  windowSeconds: number,
): Promise<void> {
  await db.query('INSERT INTO console_login_failure (username, ip) VALUES (lower($1), $2)', [username, ip]);
  // What has left the window counts no more.
  await db.query('DELETE FROM console_login_failure WHERE at <= now() - make_interval(secs => $1)', [
    windowSeconds,
  ]);
}

/** A successful login forgets the user name's failures (an address's failures for other names stay). */
export async function clearLoginFailures(db: Queryable, username: string): Promise<void> {
  await db.query('DELETE FROM console_login_failure WHERE username = lower($1)', [username]);
}
