// Issue 18 through the API on the real stack: a bounce text's occurrence count
// can be reset (who and when recorded), and a bounce that comes back later by
// mail counts toward its receiving domain's error rate (MX management) exactly
// as a refusal the server gave while we sent.
import { createApiKey } from '../../db/api-key-queries';
import { startHarness, uniqueSuffix, waitFor, type Harness } from '../support/harness';
import { postfixDsn, uniqueWord } from '../support/report-fixtures';
import { withSendTokens } from '../../db/send-token';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ sendBatchSize: 10, sendBatchesInFlight: 1 });
});

afterAll(async () => {
  await h?.stop();
});

async function template(): Promise<number> {
  const res = await h.api('POST', '/v1/templates', {
    channel: 'email',
    title: `Tally ${uniqueSuffix()}`,
    subject: 'Hi',
    from: 'news@example.test',
    bodyText: 'Hello',
  });
  expect(res.status).toBe(201);
  return res.body.id;
}

/** A completed run to `addresses`; its sends by address. */
async function sentTo(addresses: string[]): Promise<Map<string, any>> {
  const ids: number[] = [];
  for (const email of addresses) {
    const res = await h.api('POST', '/v1/leads', { name: 'T', email });
    expect(res.status).toBe(201);
    ids.push(res.body.id);
  }
  const created = await h.api('POST', '/v1/wizard-runs', { templateId: await template(), leadIds: ids });
  expect(created.status).toBe(201);
  await waitFor('the run to complete', async () => {
    const r = (await h.api('GET', `/v1/wizard-runs/${created.body.id}`)).body;
    return r.status === 'completed' && r.counters.sent === addresses.length;
  });
  const sends = (await h.api('GET', `/v1/wizard-runs/${created.body.id}/sends`)).body.items;
  const tokens = await withSendTokens(
    h.pool,
    (await h.pool.query('SELECT id::text AS id, token FROM send WHERE run_id = $1', [created.body.id])).rows,
    (r) => r.id,
  );
  const tokenOf = new Map(tokens.map((r) => [r.id, r.token]));
  return new Map(sends.map((s: any) => [s.address, { ...s, token: tokenOf.get(String(s.id)) }]));
}

/** A DSN for one send, as the receiving server would write it. */
function dsn(send: { token: string; address: string }, diagnostic: string, status = '5.1.1'): string {
  return postfixDsn({
    token: send.token,
    bounceDomain: h.config.bounceDomain,
    to: send.address,
    status,
    diagnostic,
  });
}

/** A report posted to the API as the bounce mailbox passes it on. */
function post(raw: string) {
  return h.api('POST', '/v1/inbound/bounces', raw, { headers: { 'content-type': 'message/rfc822' } });
}

/** A DSN for one send, posted to the API. */
function bounce(send: { token: string; address: string }, diagnostic: string, status = '5.1.1') {
  return post(dsn(send, diagnostic, status));
}

async function domainState(domain: string) {
  const items = (await h.api('GET', '/v1/domain-states')).body.items as any[];
  return items.find((i) => i.domain === domain) ?? null;
}

describe("a domain's error rate", () => {
  test('when a message bounces later by mail, then its domain counts it as a refusal while sending would be counted', async () => {
    const live = `live-${uniqueSuffix()}.test`;
    const later = `later-${uniqueSuffix()}.test`;
    const names = ['a', 'b', 'c', 'd'];
    for (const n of names.slice(0, 2))
      h.sink.script(`${n}@${live}`, {
        kind: 'reject-rcpt',
        code: 550,
        enhanced: '5.1.1',
        text: 'no such user',
      });
    await sentTo(names.map((n) => `${n}@${live}`));
    const laterSends = await sentTo(names.map((n) => `${n}@${later}`));
    expect(await domainState(live)).toMatchObject({ messages: 4, errors: 2, blockedUntil: null });
    expect(await domainState(later)).toMatchObject({ messages: 4, errors: 0 });

    const reports = names
      .slice(0, 2)
      .map((n) =>
        dsn(
          laterSends.get(`${n}@${later}`),
          `550 5.1.1 <${n}@${later}>: Recipient address rejected: User unknown`,
        ),
      );
    for (const raw of reports)
      expect(await post(raw)).toMatchObject({ status: 202, body: { action: 'bounce', status: 'pending' } });
    const { domain: _l, ...liveCounts } = await domainState(live);
    const { domain: _d, ...laterCounts } = await domainState(later);
    expect(laterCounts).toEqual(liveCounts);

    // The same report delivered again counts nothing again.
    const again = await post(reports[0]!);
    expect(again.status).toBeLessThan(300);
    expect(again.body.duplicate).toBe(true);
    // A bounce of no send of ours (nothing matches it) is no message the domain refused.
    const stranger = await post(
      dsn({ token: uniqueWord(), address: `stranger@${later}` }, '550 5.1.1 <stranger>: User unknown'),
    );
    expect(stranger.body).toMatchObject({ action: 'bounce', sendId: null });
    expect(await domainState(later)).toMatchObject({ messages: 4, errors: 2 });
  });

  test("when later bounces pass a domain's threshold, then the breaker blocks the domain as live refusals would", async () => {
    const domain = `tripped-${uniqueSuffix()}.test`;
    const rule = await h.api('POST', '/v1/domain-rules', {
      domain,
      errorRateThreshold: 0.5,
      minMessages: 4,
      blockSeconds: 3600,
    });
    expect(rule.status).toBe(201);
    const sends = await sentTo(['p', 'q', 'r', 's'].map((n) => `${n}@${domain}`));
    expect(await domainState(domain)).toMatchObject({ messages: 4, errors: 0, blockedUntil: null });
    await bounce(sends.get(`p@${domain}`), '552 5.2.2 <p>: mailbox full, over quota', '5.2.2');
    expect((await domainState(domain)).blockedUntil).toBeNull();
    const before = Date.now();
    await bounce(sends.get(`q@${domain}`), `550 5.1.1 <q@${domain}>: User unknown`);
    const blocked = await h.api('GET', '/v1/domain-states?blockedOnly=true');
    const state = blocked.body.items.find((i: any) => i.domain === domain);
    expect(state).toBeDefined();
    expect(Date.parse(state.blockedUntil)).toBeGreaterThanOrEqual(before + 3590_000);
  });
});

describe("a bounce text's occurrence count", () => {
  test('when a user resets it, then it starts again from 0, and who reset it and when are shown', async () => {
    const name = `resetter-${uniqueSuffix()}`;
    const { key } = await createApiKey(h.pool, name, ['read', 'write']);
    const domain = `texts-${uniqueSuffix()}.test`;
    const sends = [...(await sentTo(['x', 'y', 'z'].map((n) => `${n}@${domain}`))).values()];
    const word = uniqueWord();
    const text = (s: any) => `554 frobnicated ${word} by policy engine for <${s.address}>`;
    for (const s of sends.slice(0, 2)) {
      const res = await bounce(s, text(s), '5.0.0');
      expect(res.body).toMatchObject({ errorType: 'undefined', errorReason: 'undefined' });
    }
    const find = async () =>
      ((await h.api('GET', '/v1/bounce-rules?state=undefined')).body.items as any[]).find((r) =>
        r.normalizedText?.includes(word),
      );
    const counted = await find();
    expect(counted).toMatchObject({
      state: 'undefined',
      occurrences: 2,
      occurrencesResetAt: null,
      occurrencesResetBy: null,
    });

    const before = Date.now();
    const reset = await h.api('POST', `/v1/bounce-rules/${counted.id}/reset-occurrences`, undefined, {
      key,
    });
    expect(reset).toMatchObject({
      status: 200,
      body: { id: counted.id, state: 'undefined', occurrences: 0, occurrencesResetBy: name },
    });
    expect(Date.parse(reset.body.occurrencesResetAt)).toBeGreaterThanOrEqual(before - 1000);
    expect(await find()).toMatchObject({ occurrences: 0, occurrencesResetBy: name });

    await bounce(sends[2], text(sends[2]), '5.0.0');
    expect(await find()).toMatchObject({
      occurrences: 1,
      occurrencesResetBy: name,
      occurrencesResetAt: reset.body.occurrencesResetAt,
    });
  });

  test('when the rule is missing, a rule a user wrote, a built-in one or the key may not write, then 4xx says why and nothing changes', async () => {
    expect((await h.api('POST', '/v1/bounce-rules/2147483000/reset-occurrences')).status).toBe(404);
    const own = await h.api('POST', '/v1/bounce-rules', {
      pattern: `own-${uniqueWord()}`,
      errorType: 'hard',
      reason: 'unknown_user',
      code: 42550,
    });
    expect(own.status).toBe(201);
    const refused = await h.api('POST', `/v1/bounce-rules/${own.body.id}/reset-occurrences`);
    expect(refused.status).toBe(409);
    expect(refused.body.message).toMatch(/counts no bounce text/);
    const builtin = await h.api('POST', '/v1/bounce-rules/builtin:mailbox-full/reset-occurrences');
    expect(builtin.status).toBe(400);
    expect(builtin.body.field).toBe('params.id');
    const { key: reader } = await createApiKey(h.pool, `reader-${uniqueSuffix()}`, ['read']);
    const observed = ((await h.api('GET', '/v1/bounce-rules')).body.items as any[]).find(
      (r) => r.origin === 'observed',
    );
    const forbidden = await h.api('POST', `/v1/bounce-rules/${observed.id}/reset-occurrences`, undefined, {
      key: reader,
    });
    expect(forbidden.status).toBe(403);
    const after = ((await h.api('GET', '/v1/bounce-rules')).body.items as any[]).find(
      (r) => r.id === observed.id,
    );
    expect(after.occurrences).toBe(observed.occurrences);
  });
});
