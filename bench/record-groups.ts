// `npx tsx bench/record-groups.ts [--writers 4] [--messages 8000]`: what one group commit of email
// deliveries (db/outcomes.ts recordOutcomes, the bulk path) costs PostgreSQL against the group's
// size. A scratch embedded PostgreSQL with pg_stat_statements, a run's pending sends, and for each
// group size the same number of messages recorded by `--writers` concurrent writers (a run's
// batches in flight), each its own counter slot. Prints, per size: calls, the statement's mean
// time (pg_stat_statements) and its planning time, its time per message, and the wall time per message including
// commits. Asserts nothing.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrateUp, openOrm } from '../db/orm';
import { createPool } from '../db/pool';
import { recordOutcomes, type OutcomeRecord, type RecordingRules } from '../db/outcomes';
import { classifySmtpReply } from '../domain/smtp-classification';
import { startEmbeddedPostgres } from '../dev/embedded-postgres';

const args = process.argv.slice(2);
const arg = (name: string, dflt: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const WRITERS = arg('--writers', 4);
const MESSAGES = arg('--messages', 8000);
const SIZES = [5, 10, 20, 40, 80];
/** `--fillfactor N`: the send table's fillfactor for this measurement (default: the migrations'). */
const FILLFACTOR = arg('--fillfactor', 0);

const EMAIL: RecordingRules = {
  acceptedAs: 'delivered',
  validity: { invalidAfterErrors: 3 },
  pendingOnly: false,
  stampPreErrors: true,
};

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'record-groups-'));
  const pg = await startEmbeddedPostgres({
    dataDir: dir,
    port: await freePort(),
    database: 'groups',
    persistent: false,
    postgresFlags: [
      '-c',
      'shared_preload_libraries=pg_stat_statements',
      '-c',
      'pg_stat_statements.track_planning=on',
    ],
  });
  const pool = createPool(pg.url, WRITERS + 1);
  try {
    const orm = await openOrm(pg.url, 2);
    await migrateUp(orm);
    await orm.close();
    await pool.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    const total = MESSAGES * SIZES.length;
    if (FILLFACTOR > 0) await pool.query(`ALTER TABLE send SET (fillfactor = ${Math.trunc(FILLFACTOR)})`);
    await pool.query(
      `INSERT INTO lead (name, email) SELECT 'L' || g, 'l' || g || '@example.test' FROM generate_series(1, $1) g`,
      [total],
    );
    const templateId: number = (
      await pool.query(`INSERT INTO template (channel, title) VALUES ('email', 'G') RETURNING id`)
    ).rows[0].id;
    const runId: number = (
      await pool.query(
        `INSERT INTO wizard_run (channel, template_id, template_title, target_kind, lead_ids, status, workflow_id)
         VALUES ('email', $1, 'G', 'list', '{}', 'running', 'groups') RETURNING id`,
        [templateId],
      )
    ).rows[0].id;
    const sends = (
      await pool.query<{ id: string; lead_id: number; address: string }>(
        `INSERT INTO send (run_id, channel, lead_id, address, template_id, template_title, token, result, attempts)
         SELECT $1, 'email', l.id, l.email, $2, 'G', md5(l.id::text), 'pending', 1 FROM lead l ORDER BY l.id
         RETURNING id, lead_id, address`,
        [runId, templateId],
      )
    ).rows.sort((a, b) => Number(a.id) - Number(b.id));
    await pool.query('VACUUM ANALYZE');
    const outcome = classifySmtpReply({ responseCode: 250, response: '250 2.0.0 Ok: queued as 4XYZ' });
    console.log(`writers ${WRITERS}, ${MESSAGES} messages per size`);
    console.log(
      '| group | calls | planning ms/call | statement ms/call | statement µs/msg | wall µs/msg | HOT share of send updates | WAL bytes/msg |',
    );
    console.log('|---|---|---|---|---|---|---|---|');
    const walNow = async () =>
      (await pool.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn')).rows[0]!.lsn;
    // Backends report their counters at most once a second (idle ones later): read until they settle.
    const sendUpdates = async () => {
      let last = '';
      for (let still = 0; still < 2;) {
        await new Promise((r) => setTimeout(r, 1000));
        const r = await pool.query<{ upd: string; hot: string }>(
          `SELECT n_tup_upd AS upd, n_tup_hot_upd AS hot FROM pg_stat_user_tables WHERE relname = 'send'`,
        );
        const now = `${r.rows[0]?.upd ?? 0} ${r.rows[0]?.hot ?? 0}`;
        still = now === last ? still + 1 : 0;
        last = now;
      }
      const [upd, hot] = last.split(' ').map(Number);
      return { upd: upd ?? 0, hot: hot ?? 0 };
    };
    let next = 0;
    for (const size of SIZES) {
      const mine = sends.slice(next, next + MESSAGES);
      next += MESSAGES;
      await pool.query('SELECT pg_stat_statements_reset()');
      const updBefore = await sendUpdates();
      const walBefore = await walNow();
      const started = process.hrtime.bigint();
      await Promise.all(
        Array.from({ length: WRITERS }, async (_, w) => {
          const slot = randomUUID();
          const share = mine.filter((_s, i) => i % WRITERS === w);
          for (let i = 0; i < share.length; i += size) {
            const group: OutcomeRecord[] = share.slice(i, i + size).map((s) => ({
              sendId: s.id,
              leadId: s.lead_id,
              address: s.address,
              attempt: 1,
              at: new Date(),
              outcome,
              messageId: `<${s.id}@groups>`,
              nextAttemptAt: null,
            }));
            await recordOutcomes(pool, runId, group, EMAIL, slot);
          }
        }),
      );
      const wallUs = Number(process.hrtime.bigint() - started) / 1000;
      const st = (
        await pool.query<{ calls: string; ms: number; plan: number }>(
          `SELECT calls, total_exec_time AS ms, total_plan_time AS plan FROM pg_stat_statements
            WHERE query LIKE 'WITH v AS%' AND query LIKE '%INSERT INTO wizard_run_counter%'`,
        )
      ).rows[0];
      const walBytes = Number(
        (
          await pool.query<{ b: string }>('SELECT pg_wal_lsn_diff($1::pg_lsn, $2::pg_lsn)::bigint AS b', [
            await walNow(),
            walBefore,
          ])
        ).rows[0]!.b,
      );
      const updAfter = await sendUpdates();
      const upd = updAfter.upd - updBefore.upd;
      const hotShare = upd > 0 ? `${((100 * (updAfter.hot - updBefore.hot)) / upd).toFixed(0)} %` : '–';
      const calls = Number(st?.calls ?? 0);
      const ms = st?.ms ?? 0;
      console.log(
        `| ${size} | ${calls} | ${((st?.plan ?? 0) / calls).toFixed(2)} | ${(ms / calls).toFixed(2)} | ${((ms * 1000) / MESSAGES).toFixed(0)} | ${(wallUs / MESSAGES).toFixed(0)} | ${hotShare} | ${(walBytes / MESSAGES).toFixed(0)} |`,
      );
    }
    const size = (
      await pool.query<{ heap: string; idx: string }>(
        `SELECT pg_relation_size('send') AS heap, pg_indexes_size('send') AS idx`,
      )
    ).rows[0]!;
    console.log(
      `send after ${total} sends recorded: heap ${(Number(size.heap) / total).toFixed(0)} bytes/send, indexes ${(Number(size.idx) / total).toFixed(0)} bytes/send`,
    );
  } finally {
    await pool.end();
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
