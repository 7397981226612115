// Lead CSV import and export as Excel users in Japan write and read files:
// Shift_JIS (CP932), UTF-16 with BOM, UTF-8 with or without BOM; bytes that do
// not decode are refused with the row and column named, never stored as U+FFFD.
// The files are built with iconv-lite in reverse. Against the real API and PostgreSQL.
import iconv from 'iconv-lite';
import { csvRecords, LEAD_EXPORT_COLUMNS } from '../../domain/lead-csv';
import { startHarness, uniqueSuffix, type Harness } from '../support/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
}, 120_000);
afterAll(async () => {
  await h?.stop();
});

/** POST the bytes as they are (the harness would send text). */
async function importBytes(bytes: Buffer, contentType = 'text/csv', query = '') {
  const res = await fetch(`${h.baseUrl}/v1/leads/import${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${h.apiKey}`, 'content-type': contentType },
    body: bytes,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function names(ids: number[]): Promise<string[]> {
  const res = await h.pool.query<{ name: string }>('SELECT name FROM lead WHERE id = ANY($1) ORDER BY id', [
    ids,
  ]);
  return res.rows.map((r) => r.name);
}

async function leadCount(): Promise<number> {
  return (await h.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM lead')).rows[0]!.n;
}

describe('import encodings', () => {
  test('when Excel saves a two-line CSV in Shift_JIS (CP932), then 山田太郎 imports as 山田太郎', async () => {
    const email = `yamada-${uniqueSuffix()}@x.jp`;
    const bytes = iconv.encode(`name,email\r\n山田太郎,${email}\r\n`, 'cp932');
    expect(bytes.includes(Buffer.from('山田太郎'))).toBe(false); // really not UTF-8
    const res = await importBytes(bytes);
    expect([res.status, res.body.inserted, res.body.errors]).toEqual([200, 1, []]);
    expect(await names(res.body.ids)).toEqual(['山田太郎']);
  });

  test('when the CP932 file holds 髙 and ① (not in JIS X 0208), then they import right, detected or by charset', async () => {
    const tag = uniqueSuffix();
    const bytes = iconv.encode(`name,plan\r\n髙橋①-${tag},ｶﾅ～\r\n`, 'cp932');
    const detected = await importBytes(bytes);
    expect(detected.status).toBe(200);
    expect(await names(detected.body.ids)).toEqual([`髙橋①-${tag}`]);
    const labelled = await importBytes(bytes, 'text/csv; charset=Shift_JIS');
    expect(labelled.status).toBe(200);
    const rows = await h.pool.query('SELECT name, attributes FROM lead WHERE id = ANY($1)', [
      labelled.body.ids,
    ]);
    expect(rows.rows).toEqual([{ name: `髙橋①-${tag}`, attributes: { plan: 'ｶﾅ～' } }]);
  });

  test.each([
    ['utf-16le', [0xff, 0xfe]],
    ['utf-16be', [0xfe, 0xff]],
    ['utf-8', [0xef, 0xbb, 0xbf]],
  ])('when the file is %s with a BOM, then it imports right', async (encoding, bom) => {
    const tag = uniqueSuffix();
    const bytes = Buffer.concat([Buffer.from(bom), iconv.encode(`name\n鈴木花子-${tag}\n`, encoding)]);
    const res = await importBytes(bytes);
    expect(res.status).toBe(200);
    expect(await names(res.body.ids)).toEqual([`鈴木花子-${tag}`]);
  });

  test('when a CP932 file is labelled UTF-8, then 400 names row and column and nothing is inserted', async () => {
    const before = await leadCount();
    const bytes = iconv.encode(`name,email,plan\nok,,gold\n佐藤,,金\n`, 'cp932');
    const res = await importBytes(bytes, 'text/csv; charset=utf-8');
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/^body: row 3, column 1 \(name\): holds bytes that are not valid UTF-8/);
    expect(await leadCount()).toBe(before);
  });

  test('when bytes are not CP932 either, then 400 names the row and column and nothing is inserted', async () => {
    const before = await leadCount();
    // 0x81 0x20: a lead byte with no valid trail byte, in the third column of row 2.
    const bytes = Buffer.concat([
      iconv.encode('name,email,plan\n山田,,', 'cp932'),
      Buffer.from([0x81, 0x20]),
      Buffer.from('\n'),
    ]);
    const res = await importBytes(bytes);
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/row 2, column 3 \(plan\): holds bytes that are not valid Shift_JIS/);
    expect(await leadCount()).toBe(before);
    const stored = await h.pool.query(`SELECT count(*)::int AS n FROM lead WHERE name LIKE '%\uFFFD%'`);
    expect(stored.rows[0].n).toBe(0);
  });

  test('when a UTF-16 file ends with half a character, then it is refused', async () => {
    const bytes = Buffer.concat([
      Buffer.from([0xff, 0xfe]),
      iconv.encode('name\nabc\n', 'utf-16le'),
      Buffer.from([0x41]),
    ]);
    const res = await importBytes(bytes);
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/not valid UTF-16LE/);
  });

  test('when the charset is one the import does not read, then 415', async () => {
    const res = await importBytes(Buffer.from('name\nx\n'), 'text/csv; charset=koi8-r');
    expect(res.status).toBe(415);
    expect(res.body.message).toMatch(/koi8-r/);
  });

  test('when the request has no body, then 400 says a CSV file is required and nothing is inserted', async () => {
    const before = await leadCount();
    const res = await fetch(`${h.baseUrl}/v1/leads/import?onDuplicate=insert`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.apiKey}` },
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/CSV file is required/);
    expect(await leadCount()).toBe(before);
  });
});

describe('duplicates', () => {
  const csv = (rows: string[]) => Buffer.from(rows.join('\n') + '\n');

  test('when a row has the email of a live lead, then onDuplicate decides: insert (default), update or skip', async () => {
    const tag = uniqueSuffix();
    const email = `dup-${tag}@x.jp`;
    const first = await importBytes(
      csv(['name,email,sms_permission,plan', `first-${tag},${email},false,gold`]),
    );
    expect(first.body.inserted).toBe(1);
    const [id] = first.body.ids;

    const again = await importBytes(csv(['name,email', `again-${tag},${email.toUpperCase()}`]));
    expect([again.body.inserted, again.body.updated, again.body.skipped]).toEqual([1, [], []]);
    await h.pool.query('DELETE FROM lead WHERE id = $1', [again.body.ids[0]]);

    const skip = await importBytes(
      csv(['name,email', `skip-${tag},${email}`]),
      'text/csv',
      '?onDuplicate=skip',
    );
    expect([skip.body.inserted, skip.body.skipped]).toEqual([0, [{ row: 2, leadId: id }]]);

    const upd = await importBytes(
      csv(['name,email,rank', `upd-${tag},${email},A`]),
      'text/csv',
      '?onDuplicate=update',
    );
    expect([upd.body.inserted, upd.body.updated]).toEqual([0, [id]]);
    const row = await h.pool.query('SELECT name, sms_permission, attributes FROM lead WHERE id = $1', [id]);
    // Columns the file does not have stay as they were; attributes are merged.
    expect(row.rows[0]).toEqual({
      name: `upd-${tag}`,
      sms_permission: false,
      attributes: { plan: 'gold', rank: 'A' },
    });
  });

  test('when the file repeats an email, then the repeat is reported; with skip the first row wins', async () => {
    const tag = uniqueSuffix();
    const rows = [
      'name,email',
      `a-${tag},d-${tag}@x.jp`,
      `b-${tag},other-${tag}@x.jp`,
      `c-${tag},D-${tag}@x.jp`,
    ];
    const res = await importBytes(csv(rows), 'text/csv', '?onDuplicate=skip');
    expect(res.status).toBe(200);
    expect(res.body.duplicatesInFile).toEqual([{ row: 4, firstRow: 2, email: `D-${tag}@x.jp` }]);
    expect(res.body.inserted).toBe(2);
    expect(res.body.skipped).toEqual([{ row: 4, leadId: res.body.ids[0] }]);
    expect(await names(res.body.ids)).toEqual([`a-${tag}`, `b-${tag}`]);
  });

  test('when onDuplicate is not a known choice, then 400 names it', async () => {
    const res = await importBytes(csv(['name', 'x']), 'text/csv', '?onDuplicate=merge');
    expect([res.status, res.body.field]).toEqual([400, 'querystring.onDuplicate']);
  });
});

describe('export', () => {
  async function exportBytes(query = '') {
    const res = await fetch(`${h.baseUrl}/v1/leads/export${query}`, {
      headers: { authorization: `Bearer ${h.apiKey}` },
    });
    return {
      status: res.status,
      type: res.headers.get('content-type'),
      bytes: Buffer.from(await res.arrayBuffer()),
    };
  }

  test('when leads are exported, then UTF-8 has a BOM, CP932 decodes back, and both hold 山田太郎 and 髙橋①', async () => {
    const tag = uniqueSuffix();
    const file = iconv.encode(
      `name,email,plan\r\n山田太郎-${tag},y-${tag}@x.jp,"a, ""b"""\r\n髙橋①-${tag},,\r\n`,
      'cp932',
    );
    const imported = await importBytes(file);
    expect(imported.body.inserted).toBe(2);

    const utf8 = await exportBytes();
    expect([utf8.status, utf8.type]).toEqual([200, 'text/csv; charset=utf-8']);
    expect([...utf8.bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const sjis = await exportBytes('?charset=cp932');
    expect(sjis.status).toBe(200);
    expect(sjis.bytes.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf]))).toBe(false);

    for (const text of [utf8.bytes.subarray(3).toString('utf8'), iconv.decode(sjis.bytes, 'cp932')]) {
      const rows: string[][] = [];
      for await (const r of csvRecords(text)) rows.push(r);
      expect(rows[0]).toEqual([...LEAD_EXPORT_COLUMNS]);
      const mine = rows.filter((r) => imported.body.ids.map(String).includes(r[0]));
      expect(mine.map((r) => [r[1], r[2], JSON.parse(r[8]!)])).toEqual([
        [`山田太郎-${tag}`, `y-${tag}@x.jp`, { plan: 'a, "b"' }],
        [`髙橋①-${tag}`, '', {}],
      ]);
    }
  });

  test('when the charset is unknown, then 400 names it', async () => {
    const res = await exportBytes('?charset=latin1');
    expect(res.status).toBe(400);
  });

  test('the OpenAPI document says the export answers CSV on 200 and JSON on errors', async () => {
    const doc = (await (await fetch(`${h.baseUrl}/openapi.json`)).json()) as {
      paths: Record<
        string,
        Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>
      >;
    };
    const responses = doc.paths['/v1/leads/export']!.get!.responses;
    expect(Object.keys(responses['200']!.content!)).toEqual(['text/csv']);
    expect(Object.keys(responses['400']!.content!)).toEqual(['application/json']);
  });
});
