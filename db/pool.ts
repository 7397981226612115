// A plain pg pool for the set-based statements activities and the API share
// (db/*-queries.ts). MikroORM owns the schema (migrations) and entity CRUD.
import { Pool, type PoolClient, types } from 'pg';

// int8 (bigint ids) stays a string: JavaScript numbers lose precision past 2^53.
types.setTypeParser(types.builtins.INT8, (v) => v);

export type Queryable = Pick<Pool, 'query'> | PoolClient;

export function createPool(databaseUrl: string, max = 10): Pool {
  const pool = new Pool({ connectionString: databaseUrl, max, idleTimeoutMillis: 30_000 });
  // An idle client losing its server (restart) must not crash the process.
  pool.on('error', () => undefined);
  return pool;
}

export async function inTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
