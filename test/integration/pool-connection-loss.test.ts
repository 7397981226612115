// A connection PostgreSQL drops while a transaction holds it (a restart, an
// administrator's pg_terminate_backend, a network cut) must fail that
// transaction, never the process: the worker and the API share db/pool.ts.
// Against the suite's real PostgreSQL; the backend is terminated from a
// second connection between two statements of inTransaction.
import type { PoolClient } from 'pg';
import { createPool, inTransaction } from '../../db/pool';

const url = () => process.env.TEST_DATABASE_URL_READY!;

/** Terminate the client's backend from another connection and wait until the client has seen it go. */
async function terminate(client: PoolClient, admin: ReturnType<typeof createPool>): Promise<number> {
  const pid: number = (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
  const gone = new Promise((resolve) => client.once('end', resolve));
  const r = await admin.query('SELECT pg_terminate_backend($1) AS ok', [pid]);
  expect(r.rows[0].ok).toBe(true);
  await gone;
  return pid;
}

let admin: ReturnType<typeof createPool>;

beforeAll(() => {
  admin = createPool(url(), 1);
});

afterAll(async () => {
  await admin.end();
});

test('when PostgreSQL ends the connection between two statements of a transaction, then the transaction rejects with that error, the process carries on, and the pool serves the next transaction on a new connection', async () => {
  const pool = createPool(url(), 1);
  try {
    let killedPid = 0;
    const outcome = inTransaction(pool, async (client) => {
      killedPid = await terminate(client, admin);
      await client.query('SELECT 1');
      return 'committed';
    });
    // 57P01: "terminating connection due to administrator command".
    await expect(outcome).rejects.toMatchObject({ code: '57P01' });

    // The pool (one connection at most) destroyed the broken client and opens a new one.
    const next = await inTransaction(pool, async (client) => {
      await client.query('CREATE TEMP TABLE t (v int) ON COMMIT DROP');
      await client.query('INSERT INTO t VALUES (1)');
      return (await client.query('SELECT pg_backend_pid() AS pid, (SELECT sum(v) FROM t) AS v')).rows[0];
    });
    expect(next.pid).not.toBe(killedPid);
    expect(Number(next.v)).toBe(1);
    expect(pool.totalCount).toBe(1);
  } finally {
    await pool.end();
  }
  // Before the fix the process-level 'error' left the transaction hanging: fail in a minute, not two.
}, 60_000);

test('when the connection is lost while the transaction waits on something else, then COMMIT is refused with the connection error and nothing is written', async () => {
  const pool = createPool(url(), 1);
  const table = `loss_${process.pid}_${Date.now()}`;
  await admin.query(`CREATE TABLE ${table} (v int)`);
  try {
    const outcome = inTransaction(pool, async (client) => {
      await client.query(`INSERT INTO ${table} VALUES (1)`);
      // e.g. a route that starts a workflow before COMMIT: the client sits idle meanwhile.
      await terminate(client, admin);
      return 'committed';
    });
    await expect(outcome).rejects.toMatchObject({ code: '57P01' });
    expect((await admin.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n).toBe(0);
    expect(await inTransaction(pool, async (c) => (await c.query('SELECT 1 AS one')).rows[0].one)).toBe(1);
  } finally {
    await admin.query(`DROP TABLE ${table}`);
    await pool.end();
  }
}, 60_000);
