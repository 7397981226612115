// Scale behaviour with the real servers: a run's workflow continues as new
// carrying cursors and counters (tiny threshold here), and two workers on the
// same task queues share one run without sending anything twice.
import { NativeConnection } from '@temporalio/worker';
import { createWorkers } from '../../worker/create-workers';
import { startHarness, uniqueSuffix, waitFor, type Harness } from '../support/harness';
import { testLogger } from '../support/test-log';
import { withSendTokens } from '../../db/send-token';

let h: Harness;

beforeAll(async () => {
  // A server-side cap on batches per second is set too: the run still completes under it.
  h = await startHarness({
    sendBatchSize: 5,
    sendBatchesInFlight: 3,
    maxBatchesPerExecution: 2,
    emailBatchesPerSecond: 20,
  });
});

afterAll(async () => {
  await h?.stop();
});

test('when a run needs more batches than one execution may hold, and two workers serve it, then it continues as new and every lead gets exactly one mail', async () => {
  const connection = await NativeConnection.connect({ address: h.config.temporalAddress });
  const second = await createWorkers({
    connection,
    namespace: 'default',
    pool: h.pool,
    email: h.email,
    logger: testLogger('second-worker'),
    config: h.config,
  });
  const running = Promise.all(second.map((w) => w.run()));
  try {
    const tag = uniqueSuffix();
    const ids: number[] = [];
    for (let i = 0; i < 47; i++)
      ids.push(
        (await h.api('POST', '/v1/leads', { name: `S${i}`, email: `s${i}.${tag}@example.test` })).body.id,
      );
    const tpl = await h.api('POST', '/v1/templates', {
      channel: 'email',
      title: `Scale ${tag}`,
      subject: 'Hi',
      from: 'n@example.test',
      bodyText: 'x',
    });
    const created = await h.api('POST', '/v1/wizard-runs', { templateId: tpl.body.id, leadIds: ids });
    const final = await waitFor(
      'completion',
      async () => {
        const r = (await h.api('GET', `/v1/wizard-runs/${created.body.id}`)).body;
        return r.status === 'completed' ? r : null;
      },
      40_000,
    ).catch(async (err) => {
      const d = await h.temporal.workflow.getHandle(created.body.taskId).describe();
      const hist = await h.temporal.workflow.getHandle(created.body.taskId).fetchHistory();
      console.log(d.status.name, JSON.stringify(hist.events?.slice(-6), null, 1).slice(0, 4000));
      throw err;
    });
    expect(final.counters).toMatchObject({ targets: 47, sent: 47, delivered: 47 });

    const tokens = (
      await withSendTokens(
        h.pool,
        (await h.pool.query('SELECT id::text AS id, token FROM send WHERE run_id = $1', [created.body.id]))
          .rows,
        (r) => r.id,
      )
    ).map((r) => r.token);
    expect(tokens).toHaveLength(47);
    for (const t of tokens)
      expect(h.sink.messages.filter((m) => m.headers.get('x-send-token') === t)).toHaveLength(1);

    // 10 batches at 2 per execution: several executions chained by continue-as-new.
    let executions = 0;
    for await (const _wf of h.temporal.workflow.list({ query: `WorkflowId = '${created.body.taskId}'` }))
      executions++;
    expect(executions).toBeGreaterThanOrEqual(4);
    const result = await h.temporal.workflow.getHandle(created.body.taskId).result();
    expect(result).toMatchObject({ status: 'completed', counts: { sent: 47, delivered: 47 } });
  } finally {
    for (const w of second) if (w.getState() === 'RUNNING') w.shutdown();
    await running;
    await connection.close();
  }
});
