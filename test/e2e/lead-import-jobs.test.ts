// Background CSV imports through the API against the real stack (PostgreSQL,
// Temporal, the worker): a 20,000-row lead file with bad rows, duplicates
// inside the file and leads that already exist; its progress, its rejected
// rows as CSV (formula cells guarded), a cancel; and an address file.
// The million-row run is the benchmark's (bench/lead-import.ts).
import iconv from 'iconv-lite';
import { csvRecords } from '../../domain/lead-csv';
import { startHarness, uniqueSuffix, waitFor, type Harness } from '../support/harness';

let h: Harness;
beforeAll(async () => {
  // Small batches: a 20,000-row file is 40 batches, so progress moves in steps a cancel can fall between.
  h = await startHarness({ importBatchRows: 500 });
}, 120_000);
afterAll(async () => {
  await h?.stop();
});

async function upload(path: string, bytes: Buffer, contentType = 'text/csv') {
  const res = await fetch(`${h.baseUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${h.apiKey}`, 'content-type': contentType },
    body: bytes,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, location: res.headers.get('location') };
}

interface Progress {
  rowsRead: number;
  inserted: number;
  updated: number;
  skipped: number;
  rejected: number;
}

/** Poll the job until it ends; every answer on the way must add up (read = inserted + updated + skipped + rejected). */
async function untilEnded(path: string) {
  return waitFor(`${path} ends`, async () => {
    const r = await h.api('GET', path);
    expect(r.status).toBe(200);
    const p = r.body.progress as Progress;
    expect(p.inserted + p.updated + p.skipped + p.rejected).toBe(p.rowsRead);
    return ['completed', 'failed', 'cancelled'].includes(r.body.status) ? r.body : null;
  });
}

async function rejectedCsv(path: string): Promise<string[][]> {
  const res = await fetch(`${h.baseUrl}${path}`, { headers: { authorization: `Bearer ${h.apiKey}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
  const bytes = Buffer.from(await res.arrayBuffer());
  expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
  const rows: string[][] = [];
  for await (const r of csvRecords(bytes.subarray(3).toString('utf8'))) rows.push(r);
  return rows;
}

async function leadsTagged(tag: string): Promise<number> {
  const res = await h.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM lead WHERE attributes->>'batch' = $1`,
    [tag],
  );
  return res.rows[0]!.n;
}

test('when a 20,000-row CSV is imported as a job, then valid rows go in, existing leads update, bad rows and in-file duplicates are reported', async () => {
  const tag = uniqueSuffix();
  // Two leads that exist before: one found by email, one by external id.
  const byEmail = await h.api('POST', '/v1/leads', { name: 'old', email: `Old-${tag}@x.jp` });
  expect(byEmail.status).toBe(201);
  const byExternal = await h.pool.query<{ id: number }>(
    `INSERT INTO lead (name, email, external_id) VALUES ('old', NULL, $1) RETURNING id`,
    [`ext-${tag}-7`],
  );
  const lines = ['name,email,external_id,batch'];
  for (let i = 1; i <= 20_000; i++) {
    let email = `lead${i}-${tag}@x.jp`;
    let name = `名前${i}`;
    let external = `ext-${tag}-${i}`;
    if (i === 3) email = 'not-an-email';
    if (i === 4) name = '=HYPERLINK("http://evil")'; // valid, stored as given
    if (i === 5) email = `lead2-${tag}@X.JP`; // the same email as row 3 (file row 2), case aside
    if (i === 6) email = `old-${tag}@x.jp`; // an existing lead's email
    if (i === 6) external = ''; // matched by email, then
    if (i === 9) email = `@SUM(1)`; // invalid, and a formula: its report cell is guarded
    lines.push(`"${name.replace(/"/g, '""')}",${email},${external},${tag}`);
  }
  const file = iconv.encode(lines.join('\r\n') + '\r\n', 'cp932');
  const res = await upload('/v1/lead-imports?onDuplicate=update', file);
  expect(res.status).toBe(202);
  expect(res.location).toBe(`/v1/lead-imports/${res.body.id}`);
  expect(res.body).toMatchObject({
    kind: 'leads',
    status: 'queued',
    encoding: 'cp932',
    onDuplicate: 'update',
  });

  const job = await untilEnded(res.location!);
  expect(job.status).toBe('completed');
  expect(job.createdBy).toMatch(/^test-/);
  expect(job.columns).toEqual(['name', 'email', 'external_id', 'batch']);
  // Rows 3 and 9 invalid, 5 a duplicate of 2 in the file; 6 updates by email, 7 by external id.
  expect(job.progress).toEqual({ rowsRead: 20_000, inserted: 19_995, updated: 2, skipped: 0, rejected: 3 });

  expect(await leadsTagged(tag)).toBe(19_997);
  const updated = await h.pool.query('SELECT id, name, attributes FROM lead WHERE id = ANY($1) ORDER BY id', [
    [byEmail.body.id, byExternal.rows[0]!.id],
  ]);
  expect(updated.rows).toEqual([
    { id: byEmail.body.id, name: '名前6', attributes: { batch: tag } },
    { id: byExternal.rows[0]!.id, name: '名前7', attributes: { batch: tag } },
  ]);
  const formula = await h.pool.query('SELECT name FROM lead WHERE external_id = $1', [`ext-${tag}-4`]);
  expect(formula.rows).toEqual([{ name: '=HYPERLINK("http://evil")' }]);

  const report = await rejectedCsv(job.rejectedReport);
  expect(report[0]).toEqual(['row', 'field', 'reason', 'name', 'email', 'external_id', 'batch']);
  // Row numbers count the header as row 1.
  expect(report.slice(1).map((r) => [r[0], r[1]])).toEqual([
    ['4', 'email'],
    ['6', 'email'],
    ['10', 'email'],
  ]);
  expect(report[2]![2]).toBe('duplicate in the file: row 3 has the same email');
  expect(report[3]![4]).toBe("'@SUM(1)");
});

test('when an import is cancelled while it runs, then it stops between batches and what it wrote stays', async () => {
  const tag = uniqueSuffix();
  const lines = ['email,batch'];
  for (let i = 1; i <= 20_000; i++) lines.push(`c${i}-${tag}@x.jp,${tag}`);
  const res = await upload('/v1/lead-imports', Buffer.from(lines.join('\n')));
  expect(res.status).toBe(202);
  // Hold the job's row: batches wait on it, so the cancel lands before the file is through.
  const holder = await h.pool.connect();
  try {
    await holder.query('BEGIN');
    await holder.query('SELECT 1 FROM import_job WHERE id = $1 FOR UPDATE', [res.body.id]);
    const cancel = h.api('DELETE', `/v1/lead-imports/${res.body.id}`);
    // The cancel waits behind the lock too (its UPDATE): release when it is waiting.
    await waitFor('the cancel waits on the job row', async () => {
      const w = await h.pool.query(
        `SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE import_job SET status = $2%'`,
      );
      return (w.rowCount ?? 0) > 0;
    });
    await holder.query('COMMIT');
    const cancelled = await cancel;
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
  } finally {
    holder.release();
  }
  const job = await untilEnded(`/v1/lead-imports/${res.body.id}`);
  expect(job.status).toBe('cancelled');
  expect(job.progress.rowsRead).toBeLessThan(20_000);
  // The workflow ends; nothing is written after the cancel.
  await waitFor('the workflow ends', async () => {
    const d = await h.temporal.workflow.getHandle(`csv-import-${res.body.id}`).describe();
    return d.status.name !== 'RUNNING';
  });
  expect(await leadsTagged(tag)).toBe(job.progress.inserted);
  const again = await h.api('GET', `/v1/lead-imports/${res.body.id}`);
  expect(again.body.progress).toEqual(job.progress);
  // A second cancel has nothing to stop.
  expect((await h.api('POST', `/v1/lead-imports/${res.body.id}/cancel`)).status).toBe(409);
  const left = await h.pool.query('SELECT count(*)::int AS n FROM import_job_chunk WHERE import_id = $1', [
    res.body.id,
  ]);
  expect(left.rows[0].n).toBe(0);
});

test('when the header is bad, then the job fails naming it, and an unknown import is a 404', async () => {
  const res = await upload('/v1/lead-imports', Buffer.from('name,na me\nx,y\n'));
  expect(res.status).toBe(202);
  const job = await untilEnded(res.location!);
  expect(job).toMatchObject({
    status: 'failed',
    error: expect.stringMatching(/^row 1, na me: column names/),
  });
  expect((await h.api('GET', '/v1/lead-imports/2000000000')).status).toBe(404);
  expect((await h.api('GET', `/v1/address-imports/${res.body.id}`)).status).toBe(404);
});

test('when operators import an address list, then good rows set statuses with who did it, bad rows are reported, and the list finds them', async () => {
  const tag = uniqueSuffix();
  const csv = [
    'address,status,channel,reason',
    `Block-${tag}@x.jp,blocklisted,,complained by phone`,
    `allow-${tag}@x.jp,allowlisted,email,VIP`,
    `090-1234-${tag.slice(0, 4).replace(/[a-f]/g, '5')},quarantined,sms,`,
    `bad-${tag},blocklisted,email,`,
    `q-${tag}@x.jp,frozen,,`,
    `block-${tag}@x.jp,valid,,`,
  ].join('\n');
  const res = await upload('/v1/address-imports', Buffer.from(csv));
  expect(res.status).toBe(202);
  const job = await untilEnded(res.location!);
  expect(job.progress).toEqual({ rowsRead: 6, inserted: 3, updated: 0, skipped: 0, rejected: 3 });
  const report = await rejectedCsv(job.rejectedReport);
  expect(report.slice(1).map((r) => [r[0], r[1], r[2]])).toEqual([
    ['5', 'address', `"bad-${tag}" is not an email address`],
    ['6', 'status', '"frozen" is not one of blocklisted, allowlisted, quarantined, valid'],
    ['7', 'address', 'duplicate in the file: row 2 has the same address'],
  ]);
  const listed = await h.api('GET', `/v1/addresses?address=${tag}&channel=email`);
  expect(listed.status).toBe(200);
  expect(
    listed.body.items.map((a: { address: string; status: string; note: string | null; source: string }) => [
      a.address,
      a.status,
      a.note,
      a.source,
    ]),
  ).toEqual([
    [`block-${tag}@x.jp`, 'blocklisted', 'complained by phone', 'import'],
    [`allow-${tag}@x.jp`, 'allowlisted', 'VIP', 'import'],
  ]);
  expect(listed.body.items[0].changedBy).toMatch(/^test-/);
  const phones = await h.api('GET', `/v1/addresses?channel=sms&status=quarantined&address=81901234`);
  expect(phones.body.items.length).toBeGreaterThan(0);
});

test('when an operator releases a blocklisted address by hand, then its status, reason and who did it change', async () => {
  const address = `Hand-${uniqueSuffix()}@x.jp`;
  const first = await h.api('POST', '/v1/addresses', {
    channel: 'email',
    address,
    status: 'blocklisted',
    reason: 'asked us to stop',
  });
  expect(first.status).toBe(201);
  expect(first.body).toMatchObject({
    address: address.toLowerCase(),
    status: 'blocklisted',
    note: 'asked us to stop',
    source: 'manual',
    changedBy: expect.stringMatching(/^test-/),
  });
  const released = await h.api('POST', '/v1/addresses', { channel: 'email', address, status: 'valid' });
  expect(released.status).toBe(200);
  expect(released.body).toMatchObject({ status: 'valid', note: null, errorCount: 0 });
  const bad = await h.api('POST', '/v1/addresses', { channel: 'sms', address: 'abc', status: 'blocklisted' });
  expect(bad.status).toBe(400);
  const quarantined = await h.api('GET', `/v1/addresses?status=nonsense`);
  expect(quarantined.status).toBe(400);
});
