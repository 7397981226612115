// Click counting, open tracking and one-click unsubscribe end to end (SPEC §8,
// RFC 8058): a real run sends real mail to the SMTP sink; the test reads the
// mails like a mail client, follows their tracking URLs over real HTTP like
// readers and like link scanners, and checks the figures the API reports.
import { simpleParser, type ParsedMail } from 'mailparser';
import { renderEmailBatch } from '../../channels/email/render';
import type { ClaimedSend } from '../../db/run-queries';
import { getTemplate } from '../../db/template-queries';
import { startHarness, uniqueSuffix, waitFor, type Harness } from '../support/harness';
import { sendToken } from '../../db/send-token';

const PUBLIC_BASE = 'https://track.example.test';
const UA = {
  chrome:
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36',
  appleMail: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)',
  proofpoint: 'Mozilla/5.0 (Windows NT 10.0) Proofpoint URL Defense',
  pythonRequests: 'python-requests/2.31.0',
};
const URL_SALE = 'https://shop.example.test/sale?x=1&y=2';
const URL_ABOUT = 'https://example.test/about';
const URL_FOOTER = 'https://example.test/company';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ publicBaseUrl: PUBLIC_BASE, sendBatchSize: 10 });
});

afterAll(async () => {
  await h?.stop();
});

/** A recipient's request to a URL from a mail: the public base is this test's API. */
function hit(publicUrl: string, init: RequestInit & { ua?: string } = {}): Promise<Response> {
  expect(publicUrl.startsWith(PUBLIC_BASE)).toBe(true);
  const { ua, ...rest } = init;
  return fetch(h.baseUrl + publicUrl.slice(PUBLIC_BASE.length), {
    redirect: 'manual',
    ...rest,
    headers: { ...(ua ? { 'user-agent': ua } : {}), ...(rest.headers as Record<string, string> | undefined) },
  });
}

async function lead(name: string, tag: string): Promise<{ id: number; email: string }> {
  const email = `${name.toLowerCase()}.${tag}@example.test`;
  const res = await h.api('POST', '/v1/leads', { name, email });
  expect(res.status).toBe(201);
  return { id: res.body.id, email };
}

async function template(body: Record<string, unknown>): Promise<number> {
  const res = await h.api('POST', '/v1/templates', {
    channel: 'email',
    title: `Tracking ${uniqueSuffix()}`,
    subject: 'News for {{name}}',
    from: 'news@example.test',
    ...body,
  });
  expect(res.status).toBe(201);
  return res.body.id;
}

const TRACKED = {
  format: 'multipart',
  clickTracking: true,
  openTracking: true,
  bodyText: `Hi {{name}}, sale: ${URL_SALE} and about us: ${URL_ABOUT}.\nStop these mails: {{unsubscribe_url}}\n`,
  bodyHtml:
    `<html><body><p>Hi {{name}}</p><a href="${URL_SALE.replace('&', '&amp;')}">Sale</a> <a href="${URL_ABOUT}">About</a>` +
    `<p><a href="mailto:info@example.test">Mail us</a> <a href="#top">Top</a> <a href="${URL_FOOTER}">Company</a>` +
    ` <a href="{{unsubscribe_url}}">Unsubscribe</a></p></body></html>`,
};

async function completedRun(body: Record<string, unknown>): Promise<any> {
  const created = await h.api('POST', '/v1/wizard-runs', body);
  expect(created.status).toBe(201);
  return waitFor(
    `run ${created.body.id} to complete`,
    async () => {
      const r = (await h.api('GET', `/v1/wizard-runs/${created.body.id}`)).body;
      return r.status === 'completed' ? r : null;
    },
    90_000,
  );
}

interface Mail {
  parsed: ParsedMail;
  text: string;
  html: string;
  hrefs: string[];
  listUnsubscribe: string | undefined;
  listUnsubscribePost: string | undefined;
}

async function mailTo(address: string): Promise<Mail> {
  const got = h.sink.messagesTo(address);
  expect(got).toHaveLength(1);
  const parsed = await simpleParser(got[0]!.raw);
  const html = typeof parsed.html === 'string' ? parsed.html : '';
  return {
    parsed,
    text: parsed.text ?? '',
    html,
    hrefs: [...html.matchAll(/href="([^"]*)"/g)].map((m) => m[1]!),
    listUnsubscribe: got[0]!.headers.get('list-unsubscribe'),
    listUnsubscribePost: got[0]!.headers.get('list-unsubscribe-post'),
  };
}

function clickUrls(s: string): string[] {
  return [...s.matchAll(/https:\/\/track\.example\.test\/c\/[A-Za-z0-9_-]+/g)].map((m) => m[0]);
}

function openUrl(html: string): string {
  const m = /<img src="(https:\/\/track\.example\.test\/o\/[A-Za-z0-9_-]+)"/.exec(html);
  expect(m).not.toBeNull();
  return m![1]!;
}

function unsubscribeUrl(mail: Mail): string {
  const m = /^<(https:\/\/track\.example\.test\/u\/[A-Za-z0-9_-]{22})>$/.exec(mail.listUnsubscribe ?? '');
  expect(m).not.toBeNull();
  return m![1]!;
}

/** The clicks a message's links get, by name: text part first, then HTML, as in TRACKED. */
function links(mail: Mail) {
  const [textSale, textAbout] = clickUrls(mail.text);
  const [htmlSale, htmlAbout, htmlFooter] = clickUrls(mail.hrefs.join(' '));
  return {
    textSale: textSale!,
    textAbout: textAbout!,
    htmlSale: htmlSale!,
    htmlAbout: htmlAbout!,
    htmlFooter: htmlFooter!,
  };
}

async function click(url: string, ua: string, expected: string): Promise<void> {
  const res = await hit(url, { ua });
  expect(res.status).toBe(302);
  expect(res.headers.get('location')).toBe(expected);
}

/**
 * Clicks sooner than 5 s after delivery are machine-fast (domain/bot-clicks);
 * readers are slower. Move the API's clock past that point instead of sleeping.
 */
async function advancePastReadingTime(runId: number) {
  const r = await h.pool.query<{ last: Date }>(
    'SELECT max(delivered_at) AS last FROM send WHERE run_id = $1',
    [runId],
  );
  h.clock.advanceTo(r.rows[0]!.last.getTime() + 5500);
}

async function eventCount(runId: number): Promise<number> {
  const r = await h.pool.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM tracking_event e JOIN send s ON s.id = e.send_id WHERE s.run_id = $1',
    [runId],
  );
  return r.rows[0]!.n;
}

async function runCounters(runId: number) {
  return (await h.api('GET', `/v1/wizard-runs/${runId}`)).body.counters;
}

describe('a tracked multipart campaign to six leads', () => {
  // One story, told once: six leads get a tracked mail; two read it like
  // people, three scanners and bots go through theirs, one unsubscribes.
  // Then one lead is deleted and one merged away. Every test below only reads.
  const s = {} as {
    runId: number;
    templateId: number;
    leads: Record<'a' | 'b' | 'c' | 'd' | 'e' | 'f', { id: number; email: string }>;
    mails: Record<'a' | 'b' | 'c' | 'd' | 'e' | 'f', Mail>;
    hammer: Response[];
    unsubscribeAnswers: Response[];
    pageBeforePost: { status: number; body: string; unsubscribedAt: unknown };
  };

  beforeAll(async () => {
    const tag = uniqueSuffix();
    const leads = {
      a: await lead('Aiko', tag),
      b: await lead('Ben', tag),
      c: await lead('Chika', tag),
      d: await lead('Daichi', tag),
      e: await lead('Emi', tag),
      f: await lead('Fumio', tag),
    };
    s.leads = leads;
    s.templateId = await template(TRACKED);
    const run = await completedRun({
      templateId: s.templateId,
      leadIds: Object.values(leads).map((l) => l.id),
    });
    s.runId = run.id;
    s.mails = {} as typeof s.mails;
    for (const [k, l] of Object.entries(leads)) s.mails[k as keyof typeof leads] = await mailTo(l.email);

    await advancePastReadingTime(s.runId);
    // A: a person in a browser opens the mail and clicks the sale twice.
    const a = links(s.mails.a);
    expect((await hit(openUrl(s.mails.a.html), { ua: UA.chrome })).status).toBe(200);
    await click(a.htmlSale, UA.chrome, URL_SALE);
    await click(a.htmlSale, UA.chrome, URL_SALE);
    // B: a person opens it in Apple Mail and clicks "about" in the text part.
    expect((await hit(openUrl(s.mails.b.html), { ua: UA.appleMail })).status).toBe(200);
    await click(links(s.mails.b).textAbout, UA.appleMail, URL_ABOUT);
    // C: a security gateway that names itself fetches the image and every link.
    const c = links(s.mails.c);
    expect((await hit(openUrl(s.mails.c.html), { ua: UA.proofpoint })).status).toBe(200);
    for (const [url, to] of [
      [c.textSale, URL_SALE],
      [c.textAbout, URL_ABOUT],
      [c.htmlSale, URL_SALE],
      [c.htmlAbout, URL_ABOUT],
      [c.htmlFooter, URL_FOOTER],
    ] as const) {
      await click(url, UA.proofpoint, to);
    }
    // D: a scanner posing as Chrome clicks three links within one second.
    const d = links(s.mails.d);
    await click(d.htmlSale, UA.chrome, URL_SALE);
    await click(d.htmlAbout, UA.chrome, URL_ABOUT);
    await click(d.htmlFooter, UA.chrome, URL_FOOTER);
    // E: a bot hammers the footer link, 25 requests at once.
    const footerE = links(s.mails.e).htmlFooter;
    s.hammer = await Promise.all(Array.from({ length: 25 }, () => hit(footerE, { ua: UA.pythonRequests })));
    // F: looks at the unsubscribe page, then unsubscribes the RFC 8058 way, and
    // the receiver repeats the POST in the other encoding and with no body.
    const stop = unsubscribeUrl(s.mails.f);
    const pageRes = await hit(stop, { ua: UA.chrome });
    s.pageBeforePost = {
      status: pageRes.status,
      body: await pageRes.text(),
      unsubscribedAt: (await h.api('GET', `/v1/leads/${leads.f.id}`)).body.unsubscribed.email,
    };
    const form = new FormData();
    form.append('List-Unsubscribe', 'One-Click');
    s.unsubscribeAnswers = [
      await hit(stop, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'List-Unsubscribe=One-Click',
      }),
      await hit(stop, { method: 'POST', body: form }),
      await hit(stop, { method: 'POST' }),
    ];

    // Afterwards B's lead is deleted and C's is merged into A's.
    await h.pool.query('UPDATE lead SET deleted_at = now() WHERE id = $1', [leads.b.id]);
    await h.pool.query('UPDATE lead SET merged_into_id = $2 WHERE id = $1', [leads.c.id, leads.a.id]);
  });

  test('when the mail is read like a mail client, then every web link points to its own tracking URL and the rest is untouched', () => {
    const tokens = new Set<string>();
    for (const m of Object.values(s.mails)) {
      expect(m.text).not.toContain('shop.example.test');
      expect(m.text).not.toContain('example.test/about');
      const l = links(m);
      for (const u of Object.values(l)) tokens.add(u);
      expect(m.hrefs).toEqual([
        l.htmlSale,
        l.htmlAbout,
        'mailto:info@example.test',
        '#top',
        l.htmlFooter,
        unsubscribeUrl(m),
      ]);
      // The footer's {{unsubscribe_url}} in the text part is the same URL as the header's, and is not counted as a click.
      expect(m.text).toContain(`Stop these mails: ${unsubscribeUrl(m)}`);
      expect(m.listUnsubscribePost).toBe('List-Unsubscribe=One-Click');
      // The open image sits right before </body>.
      expect(m.html).toMatch(
        /<img src="https:\/\/track\.example\.test\/o\/[A-Za-z0-9_-]{22}" width="1" height="1" alt=""[^>]*\/><\/body>/,
      );
    }
    // Per send, per part and per URL: 6 mails × 5 counted links, all different, none derived from the send token.
    expect(tokens.size).toBe(30);
    for (const u of tokens) expect(u).toMatch(/\/c\/[A-Za-z0-9_-]{22}$/);
  });

  test('when the send is rendered again for a retry, then its mail carries the tokens of the first one', async () => {
    const row = (
      await h.pool.query('SELECT id, lead_id, address, token FROM send WHERE run_id = $1 AND lead_id = $2', [
        s.runId,
        s.leads.d.id,
      ])
    ).rows[0];
    const claimed: ClaimedSend = {
      send_id: row.id,
      lead_id: row.lead_id,
      address: row.address,
      token: await sendToken(h.pool, String(row.id), row.token),
      message_id: null,
      name: 'Daichi',
      attributes: {},
      attempt: 2,
      transmission: 2,
      resend: false,
    };
    const before = (
      await h.pool.query('SELECT count(*)::int AS n FROM tracked_link WHERE send_id = $1', [row.id])
    ).rows[0].n;
    const again = await renderEmailBatch(h.pool, (await getTemplate(h.pool, s.templateId))!, [claimed], {
      bounceDomain: h.config.bounceDomain,
      publicBaseUrl: PUBLIC_BASE,
    });
    const msg = again.get(row.id)!;
    expect(clickUrls(msg.text!)).toEqual(clickUrls(s.mails.d.text));
    expect(msg.headers!['List-Unsubscribe']).toBe(s.mails.d.listUnsubscribe);
    expect(openUrl(msg.html!)).toBe(openUrl(s.mails.d.html));
    expect(
      (await h.pool.query('SELECT count(*)::int AS n FROM tracked_link WHERE send_id = $1', [row.id])).rows[0]
        .n,
    ).toBe(before);
  });

  test('when readers, scanners and bots have clicked, then figures count every click and, separately, only the human ones', async () => {
    const res = await h.api('GET', `/v1/wizard-runs/${s.runId}/figures`);
    expect(res.status).toBe(200);
    expect(res.body.opens).toEqual({ measurable: true, reason: null });
    // Deleted (B) and merged-away (C) leads still count: counts are what happened.
    expect(res.body.figures.all).toEqual({
      sent: 6,
      sentUnit: 'messages',
      sentMessages: 6,
      deliveryMeasurable: true,
      opensMeasurable: true,
      opensNotMeasurableReason: null,
      delivered: 6,
      errors: 0,
      deliveryRate: 100,
      openers: 3,
      unopened: 3,
      openRate: 50,
      clickers: 5,
      totalClicks: 36,
      clickRate: 83.33,
      unsubscribes: 1,
      unsubscribeRate: 16.67,
    });
    // Without machines: A and B, 2 of 6 = 33.33 (half-up).
    expect(res.body.figures.humanOnly).toEqual({
      sent: 6,
      sentUnit: 'messages',
      sentMessages: 6,
      deliveryMeasurable: true,
      opensMeasurable: true,
      opensNotMeasurableReason: null,
      delivered: 6,
      errors: 0,
      deliveryRate: 100,
      openers: 2,
      unopened: 4,
      openRate: 33.33,
      clickers: 2,
      totalClicks: 3,
      clickRate: 33.33,
      unsubscribes: 1,
      unsubscribeRate: 16.67,
    });
    expect(res.body.suspectedMachineClicks).toBe(33);
    // The run and the run list show the same figures (one computation).
    const run = (await h.api('GET', `/v1/wizard-runs/${s.runId}`)).body;
    expect(run.figures).toEqual(res.body.figures.all);
    const list = (await h.api('GET', `/v1/wizard-runs?status=completed&limit=500`)).body.items;
    expect(list.find((r: any) => r.id === s.runId).figures).toEqual(res.body.figures.all);
  });

  test('when clicks are shown per body part and per URL, then each has clickers, clicks, rate and stars with and without machines', async () => {
    const res = await h.api('GET', `/v1/wizard-runs/${s.runId}/figures`);
    const f = (clickers: number, clicks: number, clickRate: number, stars: number) => ({
      clickers,
      clicks,
      clickRate,
      stars,
    });
    expect(res.body.parts).toEqual([
      { part: 'html', all: f(4, 33, 66.67, 5), humanOnly: f(1, 2, 16.67, 5) },
      { part: 'text', all: f(2, 3, 33.33, 5), humanOnly: f(1, 1, 16.67, 5) },
    ]);
    expect(res.body.urls).toEqual([
      { url: URL_SALE, part: 'html', all: f(3, 4, 50, 5), humanOnly: f(1, 2, 16.67, 5) },
      { url: URL_ABOUT, part: 'html', all: f(2, 2, 33.33, 5), humanOnly: f(0, 0, 0, 0) },
      { url: URL_FOOTER, part: 'html', all: f(3, 27, 50, 5), humanOnly: f(0, 0, 0, 0) },
      { url: URL_SALE, part: 'text', all: f(1, 1, 16.67, 5), humanOnly: f(0, 0, 0, 0) },
      { url: URL_ABOUT, part: 'text', all: f(2, 2, 33.33, 5), humanOnly: f(1, 1, 16.67, 5) },
    ]);
    expect(res.body.moreUrls).toBe(false);
  });

  test('when a scanner clicks several URLs within a second, then all its clicks are marked, the first ones included', async () => {
    const r = await h.pool.query<{ suspected_bot: boolean; bot_reasons: string[] | null }>(
      `SELECT e.suspected_bot, e.bot_reasons FROM tracking_event e JOIN send s ON s.id = e.send_id
        WHERE s.run_id = $1 AND s.lead_id = $2 AND e.kind = 'click' ORDER BY e.id`,
      [s.runId, s.leads.d.id],
    );
    expect(r.rows).toHaveLength(3);
    for (const e of r.rows)
      expect(e).toMatchObject({
        suspected_bot: true,
        bot_reasons: expect.arrayContaining(['burst_of_urls']),
      });
    const c = await h.pool.query<{ bot_reasons: string[] }>(
      `SELECT e.bot_reasons FROM tracking_event e JOIN send s ON s.id = e.send_id
        WHERE s.run_id = $1 AND s.lead_id = $2 AND e.kind = 'click' ORDER BY e.id`,
      [s.runId, s.leads.c.id],
    );
    expect(c.rows.every((e) => e.bot_reasons.includes('scanner_user_agent'))).toBe(true);
    expect(c.rows[4]!.bot_reasons).toContain('nearly_all_urls');
  });

  test('when a bot hammers one URL with 25 requests at once, then each is redirected and counted once', async () => {
    for (const res of s.hammer) {
      expect(res.status).toBe(302);
      expect(res.headers.get('location')).toBe(URL_FOOTER);
    }
    const send = (
      await h.pool.query('SELECT click_count FROM send WHERE run_id = $1 AND lead_id = $2', [
        s.runId,
        s.leads.e.id,
      ])
    ).rows[0];
    expect(send.click_count).toBe(25);
  });

  test("when events were recorded, then the run's counters say the same as the records", async () => {
    expect(await runCounters(s.runId)).toMatchObject({
      openers: 3,
      clickers: 5,
      totalClicks: 36,
      unsubscribes: 1,
    });
    const sends = await h.pool.query('SELECT lead_id, click_count, opened_at FROM send WHERE run_id = $1', [
      s.runId,
    ]);
    const byLead = new Map(sends.rows.map((r) => [r.lead_id, r]));
    expect(byLead.get(s.leads.a.id)).toMatchObject({ click_count: 2, opened_at: expect.any(Date) });
    expect(byLead.get(s.leads.f.id)).toMatchObject({ click_count: 0, opened_at: null });
  });

  test('when the openers and clickers are listed, then deleted and merged-away leads leave the lists and leftLeads says how many', async () => {
    const openers = await h.api('GET', `/v1/wizard-runs/${s.runId}/openers`);
    expect(openers.status).toBe(200);
    expect(openers.body).toMatchObject({ counted: 3, leftLeads: 2, nextCursor: null });
    expect(openers.body.items.map((i: any) => i.leadId)).toEqual([s.leads.a.id]);
    expect(openers.body.items[0]).toMatchObject({
      name: 'Aiko',
      address: s.leads.a.email,
      count: 1,
      humanCount: 1,
    });

    const clickers = await h.api('GET', `/v1/wizard-runs/${s.runId}/clickers`);
    expect(clickers.body).toMatchObject({ counted: 5, leftLeads: 2 });
    expect(clickers.body.items.map((i: any) => i.leadId)).toEqual([s.leads.a.id, s.leads.d.id, s.leads.e.id]);
    expect(clickers.body.items.find((i: any) => i.leadId === s.leads.e.id)).toMatchObject({
      count: 25,
      humanCount: 0,
    });

    const human = await h.api('GET', `/v1/wizard-runs/${s.runId}/clickers?humanOnly=true`);
    expect(human.body).toMatchObject({ counted: 2, leftLeads: 1 });
    expect(human.body.items.map((i: any) => i.leadId)).toEqual([s.leads.a.id]);

    const paged = await h.api('GET', `/v1/wizard-runs/${s.runId}/clickers?limit=2`);
    expect(paged.body.items).toHaveLength(2);
    const rest = await h.api(
      'GET',
      `/v1/wizard-runs/${s.runId}/clickers?limit=2&cursor=${paged.body.nextCursor}`,
    );
    expect(rest.body.items.map((i: any) => i.leadId)).toEqual([s.leads.e.id]);
    expect(rest.body.nextCursor).toBeNull();
  });

  test('when a receiver unsubscribes with one click (RFC 8058), then the lead stops email, without cookies or redirects, and counts once', async () => {
    // The page a GET shows unsubscribes nobody: scanners follow GETs.
    expect(s.pageBeforePost.status).toBe(200);
    expect(s.pageBeforePost.body).toMatch(/<form method="post">/);
    expect(s.pageBeforePost.unsubscribedAt).toBeNull();
    for (const res of s.unsubscribeAnswers) {
      expect(res.status).toBe(200);
      expect(res.headers.get('location')).toBeNull();
      expect(res.headers.get('set-cookie')).toBeNull();
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    }
    const f = (await h.api('GET', `/v1/leads/${s.leads.f.id}`)).body;
    expect(f.unsubscribed).toEqual({ email: expect.any(String), sms: null, line: null });
    expect((await runCounters(s.runId)).unsubscribes).toBe(1);
  });
});

describe('one-click unsubscribe and later runs', () => {
  test('when an unsubscribed lead is in a later run, then it is excluded with reason "unsubscribed"', async () => {
    const tag = uniqueSuffix();
    const stays = await lead('Stays', tag);
    const leaves = await lead('Leaves', tag);
    const templateId = await template(TRACKED);
    await completedRun({ templateId, leadIds: [stays.id, leaves.id] });
    const res = await hit(unsubscribeUrl(await mailTo(leaves.email)), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(res.status).toBe(200);

    const later = await completedRun({
      templateId,
      leadIds: [stays.id, leaves.id],
      includeAlreadySent: true,
    });
    expect(later.counters).toMatchObject({ targets: 1, excluded: 1, sent: 1 });
    const unsent = await h.api('GET', `/v1/wizard-runs/${later.id}/unsent`);
    expect(unsent.body.items).toEqual([
      {
        leadId: leaves.id,
        address: leaves.email,
        reason: 'unsubscribed',
        labels: { reason: '配信停止済み' },
      },
    ]);
  });
});

describe('a text-only campaign without click counting', () => {
  test('when the template is text, then links stay as written, the mail still has one-click unsubscribe and opens are not measurable', async () => {
    const tag = uniqueSuffix();
    const reader = await lead('Plain', tag);
    const templateId = await template({
      format: 'text',
      openTracking: true,
      clickTracking: false,
      bodyText: `Read ${URL_ABOUT} now.`,
    });
    const run = await completedRun({ templateId, leadIds: [reader.id] });
    const mail = await mailTo(reader.email);
    expect(mail.text.trim()).toBe(`Read ${URL_ABOUT} now.`);
    expect(mail.parsed.html).toBe(false);
    expect(mail.listUnsubscribePost).toBe('List-Unsubscribe=One-Click');
    unsubscribeUrl(mail);

    const figures = await h.api('GET', `/v1/wizard-runs/${run.id}/figures`);
    expect(figures.body.opens).toEqual({
      measurable: false,
      reason: expect.stringMatching(/not measurable: text/),
    });
    expect(figures.body.figures.all).toMatchObject({
      openers: null,
      unopened: null,
      openRate: null,
      delivered: 1,
      clickers: 0,
      clickRate: 0,
    });
    expect(figures.body.urls).toEqual([]);
  });
});

describe('bad input at the tracking endpoints', () => {
  const b = {} as { runId: number; mails: Mail[]; leadIds: number[] };

  beforeAll(async () => {
    const tag = uniqueSuffix();
    const leads = [
      await lead('Probe', tag),
      await lead('Hammered', tag),
      await lead('Scanned', tag),
      await lead('Looker', tag),
    ];
    const run = await completedRun({ templateId: await template(TRACKED), leadIds: leads.map((l) => l.id) });
    b.runId = run.id;
    b.leadIds = leads.map((l) => l.id);
    b.mails = await Promise.all(leads.map((l) => mailTo(l.email)));
  });

  async function snapshot() {
    const c = await runCounters(b.runId);
    const l = await h.pool.query(
      'SELECT count(*) FILTER (WHERE unsubscribed_email_at IS NOT NULL)::int AS n FROM lead WHERE id = ANY($1)',
      [b.leadIds],
    );
    return { events: await eventCount(b.runId), counters: c, unsubscribed: l.rows[0].n };
  }

  test.each([
    ['a malformed click token', '/c/not-a-token!'],
    ['a too short click token', '/c/abc'],
    ['a well-formed click token nobody was given', '/c/AAAAAAAAAAAAAAAAAAAAAA'],
    ['an extra path segment', '/c/AAAAAAAAAAAAAAAAAAAAAA/x'],
    ['an open token nobody was given', '/o/AAAAAAAAAAAAAAAAAAAAAA'],
    ['a malformed open token', '/o/%00%01'],
    ['an unsubscribe token nobody was given', '/u/AAAAAAAAAAAAAAAAAAAAAA'],
  ])('when %s is requested, then 404 HTML answers and nothing is recorded', async (_what, path) => {
    const before = await snapshot();
    for (const method of ['GET', 'POST']) {
      if (method === 'POST' && !path.startsWith('/u/')) continue;
      const res = await fetch(h.baseUrl + path, { method, redirect: 'manual' });
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(res.headers.get('location')).toBeNull();
      expect(await res.text()).toMatch(/not valid/);
    }
    expect(await snapshot()).toEqual(before);
  });

  test('when a token is longer than any URL parameter may be, then 414 answers (Fastify refuses to route it) and nothing is recorded', async () => {
    const before = await snapshot();
    for (const path of [`/c/${'A'.repeat(2100)}`, `/o/${'A'.repeat(2100)}`]) {
      const res = await fetch(h.baseUrl + path, { redirect: 'manual' });
      expect(res.status).toBe(414);
      expect(res.headers.get('location')).toBeNull();
    }
    expect(await snapshot()).toEqual(before);
  });

  test('when a token of one kind is used at another endpoint, then 404 and nothing is recorded', async () => {
    const m = b.mails[0]!;
    const clickToken = links(m).htmlSale.split('/c/')[1]!;
    const openToken = openUrl(m.html).split('/o/')[1]!;
    const stopToken = unsubscribeUrl(m).split('/u/')[1]!;
    const before = await snapshot();
    for (const [method, path] of [
      ['GET', `/c/${openToken}`],
      ['GET', `/c/${stopToken}`],
      ['GET', `/o/${clickToken}`],
      ['GET', `/o/${stopToken}`],
      ['GET', `/u/${clickToken}`],
      ['POST', `/u/${clickToken}`],
      ['POST', `/u/${openToken}`],
    ]) {
      const res = await fetch(h.baseUrl + path!, { method, redirect: 'manual' });
      expect([method, path, res.status]).toEqual([method, path, 404]);
    }
    expect(await snapshot()).toEqual(before);
  });

  test('when a scanner sends HEAD requests, then they answer like GET but record nothing', async () => {
    const m = b.mails[0]!;
    const before = await snapshot();
    const c = await hit(links(m).htmlSale, { method: 'HEAD', ua: UA.pythonRequests });
    expect(c.status).toBe(302);
    expect(c.headers.get('location')).toBe(URL_SALE);
    const o = await hit(openUrl(m.html), { method: 'HEAD', ua: UA.pythonRequests });
    expect(o.status).toBe(200);
    expect(o.headers.get('content-type')).toBe('image/gif');
    const u = await hit(unsubscribeUrl(m), { method: 'HEAD', ua: UA.pythonRequests });
    expect(u.status).toBe(200);
    const unknown = await fetch(`${h.baseUrl}/c/AAAAAAAAAAAAAAAAAAAAAA`, {
      method: 'HEAD',
      redirect: 'manual',
    });
    expect(unknown.status).toBe(404);
    expect(await snapshot()).toEqual(before);
  });

  test('when the open image is fetched, then it is an uncacheable 1×1 GIF and repeats count one opener', async () => {
    const m = b.mails[0]!;
    const first = await hit(openUrl(m.html), { ua: UA.appleMail });
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('image/gif');
    expect(first.headers.get('cache-control')).toBe('no-store, no-cache, must-revalidate, private');
    expect(first.headers.get('pragma')).toBe('no-cache');
    expect(first.headers.get('expires')).toBe('0');
    const gif = Buffer.from(await first.arrayBuffer());
    expect(gif.subarray(0, 6).toString('latin1')).toBe('GIF89a');
    expect([gif.readUInt16LE(6), gif.readUInt16LE(8)]).toEqual([1, 1]);
    const openersBefore = (await runCounters(b.runId)).openers;
    expect((await hit(openUrl(m.html), { ua: UA.appleMail })).status).toBe(200);
    expect((await runCounters(b.runId)).openers).toBe(openersBefore);
    const opens = await h.pool.query(
      `SELECT count(*)::int AS n FROM tracking_event e JOIN send s ON s.id = e.send_id WHERE s.run_id = $1 AND s.lead_id = $2 AND e.kind = 'open'`,
      [b.runId, b.leadIds[0]],
    );
    expect(opens.rows[0].n).toBe(2);
  });

  test('when a bot hammers one URL with 40 requests at once, then no request fails and the counts stay exact', async () => {
    const url = links(b.mails[1]!).htmlAbout;
    const before = await runCounters(b.runId);
    const answers = await Promise.all(Array.from({ length: 40 }, () => hit(url, { ua: 'Mozilla/5.0' })));
    expect(answers.map((r) => r.status)).toEqual(Array(40).fill(302));
    const after = await runCounters(b.runId);
    expect(after.totalClicks - before.totalClicks).toBe(40);
    expect(after.clickers - before.clickers).toBe(1);
    const send = await h.pool.query('SELECT click_count FROM send WHERE run_id = $1 AND lead_id = $2', [
      b.runId,
      b.leadIds[1],
    ]);
    expect(send.rows[0].click_count).toBe(40);
  });

  test('when one link is clicked again and again, then from the eleventh click on the clicks are marked as repeated', async () => {
    await advancePastReadingTime(b.runId);
    const url = links(b.mails[2]!).htmlFooter;
    for (let i = 0; i < 12; i++) await click(url, UA.chrome, URL_FOOTER);
    const r = await h.pool.query<{ bot_reasons: string[] | null }>(
      `SELECT e.bot_reasons FROM tracking_event e JOIN send s ON s.id = e.send_id
        WHERE s.run_id = $1 AND s.lead_id = $2 AND e.kind = 'click' ORDER BY e.id`,
      [b.runId, b.leadIds[2]],
    );
    expect(r.rows.map((e) => (e.bot_reasons ?? []).includes('same_url_repeated'))).toEqual([
      ...Array(10).fill(false),
      true,
      true,
    ]);
  });

  test('when the unsubscribe page is only looked at, then nothing changes', async () => {
    const before = await snapshot();
    const res = await hit(unsubscribeUrl(b.mails[3]!), { ua: UA.chrome });
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/<form method="post">/);
    expect(await snapshot()).toEqual(before);
  });
});
