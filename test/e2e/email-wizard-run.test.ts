// The foundation, end to end over real HTTP, a real Temporal server, real
// PostgreSQL and a real SMTP server: a user creates leads, a template and a
// segment, reserves a run, and every lead gets exactly one mail.
import { WIZARD_STATUS } from '../../workflows/search-attributes';
import { startHarness, uniqueSuffix, waitFor, type Harness } from '../support/harness';
import { withSendTokens } from '../../db/send-token';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});

afterAll(async () => {
  await h?.stop();
});

async function createAudience(count: number) {
  const tag = uniqueSuffix();
  const leadIds: number[] = [];
  for (let i = 0; i < count; i++) {
    const res = await h.api('POST', '/v1/leads', {
      name: `Lead ${i}`,
      email: `lead${i}.${tag}@example.test`,
      attributes: { tag },
    });
    expect(res.status).toBe(201);
    leadIds.push(res.body.id);
  }
  const template = await h.api('POST', '/v1/templates', {
    channel: 'email',
    title: `Welcome ${tag}`,
    format: 'multipart',
    subject: 'Hello {{name}}',
    from: 'news@example.test',
    bodyText: 'Hi {{name}}, this is plain text.',
    bodyHtml: '<p>Hi {{name}}</p>',
  });
  expect(template.status).toBe(201);
  const segment = await h.api('POST', '/v1/segments', {
    name: `audience ${tag}`,
    channel: 'email',
    filter: { all: [{ attribute: 'tag', op: 'eq', value: tag }] },
  });
  expect(segment.status).toBe(201);
  return { tag, leadIds, templateId: template.body.id as number, segmentId: segment.body.id as number };
}

async function runStatus(id: number): Promise<any> {
  return (await h.api('GET', `/v1/wizard-runs/${id}`)).body;
}

describe('an immediate email wizard run', () => {
  test('when a run targets a segment of 45 leads, then it completes and each lead got exactly one mail with code 40000', async () => {
    const { leadIds, templateId, segmentId } = await createAudience(45);
    const created = await h.api('POST', '/v1/wizard-runs', { templateId, segmentId });
    expect(created.status).toBe(201);
    // 送信予約 is for scheduled runs: an immediate one answers 準備中.
    expect(created.body.status).toBe('preparing');
    expect(created.body.taskId).toBe(`wizard-run-${created.body.id}`);
    const runId: number = created.body.id;

    const seen: string[] = ['preparing'];
    const final = await waitFor(
      'the run to complete',
      async () => {
        const r = await runStatus(runId);
        if (seen[seen.length - 1] !== r.status) seen.push(r.status);
        return r.status === 'completed' ? r : null;
      },
      90_000,
      50,
    );
    // Whatever we caught while polling follows the lifecycle order.
    const order = ['reserved', 'preparing', 'running', 'completed'];
    // Only lifecycle statuses (an unknown one would rank -1 and pass the order check)…
    expect(seen.filter((s) => !order.includes(s))).toEqual([]);
    // …each seen in lifecycle order, none twice.
    const ranks = seen.map((s) => order.indexOf(s));
    expect(ranks).toEqual([...new Set(ranks)].sort((a, b) => a - b));

    expect(final.counters).toMatchObject({
      targets: 45,
      excluded: 0,
      sent: 45,
      delivered: 45,
      errors: 0,
      preErrors: 0,
    });
    expect(final.startedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
    expect(final.completedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
    expect(Date.parse(final.completedAt)).toBeGreaterThanOrEqual(Date.parse(final.startedAt));

    const sends = await h.api('GET', `/v1/wizard-runs/${runId}/sends?limit=500`);
    expect(sends.status).toBe(200);
    expect(sends.body.items).toHaveLength(45);
    expect(new Set(sends.body.items.map((s: any) => s.leadId))).toEqual(new Set(leadIds));
    for (const s of sends.body.items) {
      expect(s).toMatchObject({ result: 'delivered', code: 40000, attempts: 1 });
      expect(s.messageId).toMatch(/^<[0-9a-f]{32}@/);
    }

    // The sink really received one mail per lead, counted by the per-send token.
    const tokens = {
      rows: await withSendTokens(
        h.pool,
        (
          await h.pool.query<{ id: string; token: string | null; address: string }>(
            'SELECT id::text AS id, token, address FROM send WHERE run_id = $1',
            [runId],
          )
        ).rows,
        (r) => r.id,
      ),
    };
    for (const { token, address } of tokens.rows) {
      const got = h.sink.messages.filter((m) => m.headers.get('x-send-token') === token);
      expect(got).toHaveLength(1);
      expect(got[0]!.to).toEqual([address]);
      expect(got[0]!.from).toBe(`b+${token}@${h.config.bounceDomain}`);
    }
    const first = h.sink.messages.find((m) => m.headers.get('x-send-token') === tokens.rows[0]!.token)!;
    expect(first.subject).toMatch(/^Hello Lead \d+$/);

    // Operators can filter runs by status in the Temporal UI.
    const handle = h.temporal.workflow.getHandle(`wizard-run-${runId}`);
    await handle.result(); // the end-of-run notice follows the status change
    const desc = await handle.describe();
    expect(desc.status.name).toBe('COMPLETED');
    expect(desc.typedSearchAttributes.get(WIZARD_STATUS)).toBe('completed');
  });

  test('when a run targets an explicit list with a duplicate address, then the duplicate is listed as unsent and gets no send', async () => {
    const { templateId, tag } = await createAudience(0);
    const a = await h.api('POST', '/v1/leads', { name: 'A', email: `dup.${tag}@example.test` });
    const b = await h.api('POST', '/v1/leads', { name: 'B', email: `DUP.${tag}@example.test` });
    const c = await h.api('POST', '/v1/leads', { name: 'C' });
    const created = await h.api('POST', '/v1/wizard-runs', {
      templateId,
      leadIds: [a.body.id, b.body.id, c.body.id],
    });
    expect(created.status).toBe(201);
    const final = await waitFor('completion', async () => {
      const r = await runStatus(created.body.id);
      return r.status === 'completed' ? r : null;
    });
    expect(final.counters).toMatchObject({ targets: 1, excluded: 2, sent: 1, delivered: 1 });
    const unsent = await h.api('GET', `/v1/wizard-runs/${created.body.id}/unsent`);
    expect(unsent.body.items).toEqual(
      expect.arrayContaining([
        {
          leadId: b.body.id,
          address: `DUP.${tag}@example.test`,
          reason: 'duplicate',
          labels: { reason: '重複' },
        },
        {
          leadId: c.body.id,
          address: null,
          reason: 'address_not_specified',
          labels: { reason: 'アドレスが未指定' },
        },
      ]),
    );
    const sends = await h.pool.query('SELECT lead_id FROM send WHERE run_id = $1', [created.body.id]);
    expect(sends.rows.map((r) => r.lead_id)).toEqual([a.body.id]);
  });
});

describe('a scheduled run', () => {
  test('when a reserved run is deleted, then its workflow ends cancelled and nothing is sent', async () => {
    const { templateId, segmentId } = await createAudience(3);
    const at = new Date(Date.now() + 3600_000).toISOString();
    const created = await h.api('POST', '/v1/wizard-runs', { templateId, segmentId, scheduledAt: at });
    expect(created.status).toBe(201);
    expect(created.body.scheduledAt).toBe(at);
    const runId = created.body.id;
    const before = h.sink.receivedCount();

    const del = await h.api('DELETE', `/v1/wizard-runs/${runId}`);
    expect(del.status).toBe(202);
    const final = await waitFor('cancellation', async () => {
      const r = await runStatus(runId);
      return r.status === 'cancelled' ? r : null;
    });
    expect(final.counters.sent).toBe(0);
    // The record says cancelled one step before the workflow closes (it still sends the end notice).
    const status = await waitFor('the workflow to close', async () => {
      const d = await h.temporal.workflow.getHandle(`wizard-run-${runId}`).describe();
      return d.status.name === 'RUNNING' ? null : d.status.name;
    });
    expect(status).toBe('CANCELLED');
    const sends = await h.pool.query('SELECT count(*)::int AS n FROM send WHERE run_id = $1', [runId]);
    expect(sends.rows[0].n).toBe(0);
    expect(h.sink.receivedCount()).toBe(before);

    // Repeating the DELETE is harmless.
    const again = await h.api('DELETE', `/v1/wizard-runs/${runId}`);
    expect(again.status).toBe(200);
    expect(again.body.status).toBe('cancelled');
  });

  test('when a run is cancelled from the Temporal side (as the UI does), then it ends cancelled with nothing sent', async () => {
    const { templateId, segmentId } = await createAudience(2);
    const created = await h.api('POST', '/v1/wizard-runs', {
      templateId,
      segmentId,
      scheduledAt: new Date(Date.now() + 3600_000).toISOString(),
    });
    await h.temporal.workflow.getHandle(created.body.taskId).cancel();
    const final = await waitFor('cancellation', async () => {
      const r = await runStatus(created.body.id);
      return r.status === 'cancelled' ? r : null;
    });
    expect(final.counters.sent).toBe(0);
  });

  // The scheduled time coming: test/e2e/scheduled-runs.test.ts (time-skipping server).

  test('when a completed run is deleted, then the answer is 409 and nothing changes', async () => {
    const { templateId, segmentId } = await createAudience(1);
    const created = await h.api('POST', '/v1/wizard-runs', { templateId, segmentId });
    await waitFor('completion', async () => (await runStatus(created.body.id)).status === 'completed');
    const del = await h.api('DELETE', `/v1/wizard-runs/${created.body.id}`);
    expect(del.status).toBe(409);
    expect(del.body.message).toMatch(/completed/);
    expect((await runStatus(created.body.id)).status).toBe('completed');
  });
});

describe('bad input', () => {
  async function runCount() {
    return (await h.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM wizard_run')).rows[0]!.n;
  }

  test.each([
    [
      'an unknown template',
      () => ({ templateId: 999999, leadIds: [1] }),
      'body.templateId',
      /does not exist/,
    ],
    ['no target', (t: number) => ({ templateId: t }), 'body.segmentId', /exactly one/],
    [
      'a time in the past',
      (t: number) => ({ templateId: t, leadIds: [1], scheduledAt: '2020-01-01T00:00:00Z' }),
      'body.scheduledAt',
      /past/,
    ],
    [
      'a malformed time',
      (t: number) => ({ templateId: t, leadIds: [1], scheduledAt: 'tomorrow' }),
      'body.scheduledAt',
      /date-time/,
    ],
    [
      'an unknown field',
      (t: number) => ({ templateId: t, leadIds: [1], colour: 'red' }),
      'body',
      /unknown field "colour"/,
    ],
  ])(
    'when a run is reserved with %s, then 400 names the field and nothing is stored',
    async (_what, body, field, message) => {
      const { templateId } = await createAudience(0);
      const before = await runCount();
      const res = await h.api('POST', '/v1/wizard-runs', body(templateId));
      expect(res.status).toBe(400);
      expect(res.body.field ?? res.body.message).toContain(field);
      expect(res.body.message).toMatch(message);
      expect(await runCount()).toBe(before);
    },
  );

  test('when the segment belongs to another channel, then 400 says so and nothing is stored', async () => {
    const { templateId } = await createAudience(0);
    const sms = await h.api('POST', '/v1/segments', { name: 'sms people', channel: 'sms', filter: {} });
    const before = await runCount();
    const res = await h.api('POST', '/v1/wizard-runs', { templateId, segmentId: sms.body.id });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ field: 'body.segmentId' });
    expect(res.body.message).toMatch(/sms/);
    expect(await runCount()).toBe(before);
  });

  test('when a lead is created with a malformed email, then 400 names the field and no lead is stored', async () => {
    const before = (await h.pool.query('SELECT count(*)::int AS n FROM lead')).rows[0].n;
    const res = await h.api('POST', '/v1/leads', { name: 'X', email: 'not-an-address' });
    expect(res.status).toBe(400);
    expect(res.body.field).toBe('body.email');
    expect((await h.pool.query('SELECT count(*)::int AS n FROM lead')).rows[0].n).toBe(before);
  });

  test('when a segment filter names an unknown field, then 400 names the place in the filter', async () => {
    const res = await h.api('POST', '/v1/segments', {
      name: 'x',
      channel: 'email',
      filter: { all: [{ field: 'shoe_size', op: 'eq', value: 1 }] },
    });
    expect(res.status).toBe(400);
    expect(res.body.field).toBe('body.filter.all[0].field');
  });

  test('when an unknown run is read or deleted, then 404', async () => {
    expect((await h.api('GET', '/v1/wizard-runs/987654')).status).toBe(404);
    expect((await h.api('DELETE', '/v1/wizard-runs/987654')).status).toBe(404);
    expect((await h.api('GET', '/v1/wizard-runs/abc')).status).toBe(400);
  });
});
