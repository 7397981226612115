// API keys: a 32-byte random key shown once; only its SHA-256 and a short
// prefix (to recognise it in listings) are stored.
import { createHash, randomBytes } from 'node:crypto';
import type { Queryable } from './pool';

export const API_SCOPES = ['read', 'write', 'admin'] as const;
export type ApiScope = (typeof API_SCOPES)[number];

export interface ApiKeyRow {
  id: number;
  name: string;
  prefix: string;
  hash: string;
  scopes: string[];
  revoked_at: Date | null;
  created_at: Date;
}

const KEY_PREFIX = 'dk_';

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export function generateApiKey(): string {
  return KEY_PREFIX + randomBytes(32).toString('base64url');
}

export function isApiScope(s: string): s is ApiScope {
  return (API_SCOPES as readonly string[]).includes(s);
}

/** Creates a key and returns it in clear once, with its row. */
export async function createApiKey(
  db: Queryable,
  name: string,
  scopes: readonly ApiScope[],
): Promise<{ key: string; row: ApiKeyRow }> {
  const key = generateApiKey();
  const res = await db.query<ApiKeyRow>(
    'INSERT INTO api_key (name, prefix, hash, scopes, created_at) VALUES ($1, $2, $3, $4, now()) RETURNING *',
    [name, key.slice(0, KEY_PREFIX.length + 6), hashApiKey(key), [...new Set(scopes)]],
  );
  return { key, row: res.rows[0]! };
}

export async function findApiKey(db: Queryable, key: string): Promise<ApiKeyRow | null> {
  const res = await db.query<ApiKeyRow>('SELECT * FROM api_key WHERE hash = $1', [hashApiKey(key)]);
  return res.rows[0] ?? null;
}

export async function listApiKeys(db: Queryable): Promise<ApiKeyRow[]> {
  return (await db.query<ApiKeyRow>('SELECT * FROM api_key ORDER BY id')).rows;
}

/** Revoking twice is harmless; returns null for an unknown id. */
export async function revokeApiKey(db: Queryable, id: number): Promise<ApiKeyRow | null> {
  const res = await db.query<ApiKeyRow>(
    'UPDATE api_key SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 RETURNING *',
    [id],
  );
  return res.rows[0] ?? null;
}
