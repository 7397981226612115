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

/**
 * Run `fn` in a transaction on one client of the pool. While the client is
 * checked out the pool does not listen to it: a connection the server drops
 * between two statements (restart, pg_terminate_backend, network) would emit
 * an 'error' nobody handles, which kills the process. So the client has a
 * listener for as long as we hold it; the transaction then fails with the
 * connection's error (the next statement is refused), and a broken client is
 * released with that error, which makes the pool destroy it instead of
 * handing it out again.
 */
export async function inTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (err: Error) => {
    broken ??= err;
  };
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    // The connection's own error (e.g. 57P01, "Connection terminated") says
    // more than the refusal of the next statement that followed it.
    if (broken) throw broken;
    await client.query('ROLLBACK').catch((rollbackErr: unknown) => {
      broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
    });
    throw err;
  } finally {
    client.removeListener('error', onError);
    client.release(broken);
  }
}
