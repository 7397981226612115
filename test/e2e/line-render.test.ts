// What a LINE run pushes, through the API, the workflow and the LINE simulator over HTTP (issue 21 item 4, issue 18
// "LINE click counting"): emoji indexes move with the personalized text (in UTF-16 units, as LINE counts), a send
// LINE would refuse is a pre-error with its reason, and clickTracking makes tracked links counted per URL.
import { randomUserId } from '../../dev/line-simulator';
import { startHarness, uniqueSuffix, waitFor, type Harness } from '../support/harness';
import { createLineAccount } from '../support/fixtures';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});

afterAll(async () => {
  await h?.stop();
});

async function lead(name: string, lineUserId: string, attributes: Record<string, unknown> = {}) {
  const res = await h.api('POST', '/v1/leads', { name, lineUserId, attributes });
  expect(res.status).toBe(201);
  return res.body.id as number;
}

async function template(accountId: number, lineMessages: unknown[], clickTracking = false) {
  return h.api('POST', '/v1/templates', {
    channel: 'line',
    title: `L ${uniqueSuffix()}`,
    lineAccountId: accountId,
    lineMessages,
    clickTracking,
  });
}

async function run(templateId: number, leadIds: number[]) {
  const created = await h.api('POST', '/v1/wizard-runs', { templateId, leadIds });
  expect(created.status).toBe(201);
  return waitFor(`run ${created.body.id} to end`, async () => {
    const r = (await h.api('GET', `/v1/wizard-runs/${created.body.id}`)).body;
    return ['completed', 'error'].includes(r.status) ? r : null;
  });
}

const emoji = (index: number, emojiId = '001') => ({ index, productId: '5ac1bfd5040ab15980c9b435', emojiId });

describe('LINE emoji after personalization', () => {
  test('when names of different lengths (one with a surrogate pair) come before the emoji, then every index still lands on its $', async () => {
    const a = await createLineAccount(h);
    const text = 'Hello {{name}} $ sale! {{attr.city}} $';
    expect(text[15]).toBe('$');
    const tpl = await template(a.id, [
      { type: 'text', text, emojis: [emoji(15), emoji(text.length - 1, '002')] },
    ]);
    expect(tpl.status).toBe(201);
    const users = { aki: randomUserId(), smile: randomUserId() };
    const ids = [
      await lead('Aki', users.aki, { city: 'Osaka' }),
      await lead('😀Aiko-san', users.smile, { city: '東京都' }),
    ];

    const r = await run(tpl.body.id, ids);

    expect(r.counters).toMatchObject({ targets: 2, sent: 2, preErrors: 0, errors: 0 });
    const aki = h.line.pushes(users.aki)[0]!.messages[0] as {
      text: string;
      emojis: Array<{ index: number }>;
    };
    expect(aki.text).toBe('Hello Aki $ sale! Osaka $');
    expect(aki.emojis.map((e) => e.index)).toEqual([10, 24]);
    const smile = h.line.pushes(users.smile)[0]!.messages[0] as typeof aki;
    expect(smile.text).toBe('Hello 😀Aiko-san $ sale! 東京都 $');
    // '😀' is two UTF-16 code units: LINE counts it so, and so do these indexes.
    expect(smile.emojis.map((e) => e.index)).toEqual([17, 29]);
    for (const m of [aki, smile]) for (const e of m.emojis) expect(m.text[e.index]).toBe('$');
  });

  test('when an emoji index does not point at a $ of the template text, then the template is refused with 400', async () => {
    const a = await createLineAccount(h);
    const res = await template(a.id, [{ type: 'text', text: 'Hello {{name}} $ sale!', emojis: [emoji(14)] }]);
    expect(res.status).toBe(400);
    expect(res.body.field).toBe('body.lineMessages[0].emojis[0].index');
  });

  test('when one lead’s data makes the text longer than LINE allows, then that send is a pre-error saying why and the others go out', async () => {
    const a = await createLineAccount(h);
    const tpl = await template(a.id, [{ type: 'text', text: '{{attr.note}} $', emojis: [emoji(14)] }]);
    expect(tpl.status).toBe(201);
    const ok = randomUserId();
    const long = randomUserId();
    const ids = [
      await lead('Ok', ok, { note: 'short' }),
      await lead('Long', long, { note: 'x'.repeat(5000) }),
    ];

    const r = await run(tpl.body.id, ids);

    expect(r.counters).toMatchObject({ targets: 2, sent: 1, preErrors: 1 });
    expect(h.line.requests(long)).toHaveLength(0);
    expect((h.line.pushes(ok)[0]!.messages[0] as { emojis: unknown }).emojis).toEqual([emoji(6)]);
    const send = await h.pool.query('SELECT result, detail FROM send WHERE run_id = $1 AND lead_id = $2', [
      r.id,
      ids[1],
    ]);
    expect(send.rows[0].result).toBe('pre_error');
    expect(send.rows[0].detail).toContain('messages[0].text: must be at most 5000 characters');
  });
});

describe('LINE click tracking', () => {
  test('when clickTracking is on, then links in texts and URI actions are tracked and each click is counted for its URL', async () => {
    const a = await createLineAccount(h);
    const shop = 'https://shop.example.jp/sale?id={{id}}';
    const button = 'https://shop.example.jp/coupon';
    const text = `Sale for {{name}}: ${shop} $ and https://example.jp/faq.`;
    const flex = {
      type: 'flex',
      altText: 'Coupon',
      contents: {
        type: 'bubble',
        body: { type: 'box', layout: 'vertical', contents: [{ type: 'text', text: 'Coupon' }] },
        footer: {
          type: 'box',
          layout: 'vertical',
          contents: [{ type: 'button', action: { type: 'uri', label: 'Open', uri: button } }],
        },
      },
    };
    const tpl = await template(
      a.id,
      [{ type: 'text', text, emojis: [emoji(text.indexOf('$'))] }, flex],
      true,
    );
    expect(tpl.status).toBe(201);
    const user = randomUserId();
    const id = await lead('Aki', user);

    const r = await run(tpl.body.id, [id]);

    expect(r.counters).toMatchObject({ targets: 1, sent: 1 });
    const [pushedText, pushedFlex] = h.line.pushes(user)[0]!.messages as [
      { text: string; emojis: Array<{ index: number }> },
      typeof flex,
    ];
    const tracked = [...pushedText.text.matchAll(/https?:\/\/\S+\/c\/([A-Za-z0-9_-]{22})/g)];
    expect(tracked).toHaveLength(2);
    expect(pushedText.text).not.toContain('shop.example.jp');
    expect(pushedText.text.endsWith('.')).toBe(true);
    expect(pushedText.text[pushedText.emojis[0]!.index]).toBe('$');
    const buttonUri = (pushedFlex.contents.footer.contents[0]!.action as { uri: string }).uri;
    expect(buttonUri).toMatch(/\/c\/[A-Za-z0-9_-]{22}$/);

    // Click the shop link twice and the button once, through the API's click endpoint.
    const click = async (trackingUrl: string) => {
      const token = trackingUrl.slice(trackingUrl.lastIndexOf('/') + 1);
      const res = await fetch(`${h.baseUrl}/c/${token}`, { redirect: 'manual' });
      expect(res.status).toBe(302);
      return res.headers.get('location');
    };
    expect(await click(tracked[0]![0])).toBe(`https://shop.example.jp/sale?id=${id}`);
    await click(tracked[0]![0]);
    expect(await click(buttonUri)).toBe(button);

    const figures = (await h.api('GET', `/v1/wizard-runs/${r.id}/figures`)).body;
    const byUrl = Object.fromEntries(
      (figures.urls as Array<{ url: string; part: string; all: { clicks: number } }>).map((u) => [
        u.url,
        [u.part, u.all.clicks],
      ]),
    );
    expect(byUrl).toEqual({
      [`https://shop.example.jp/sale?id=${id}`]: ['line', 2],
      'https://example.jp/faq': ['line', 0],
      [button]: ['line', 1],
    });
  });
});

test('when the runs above pushed, then LINE’s OpenAPI description refused none of their requests', () => {
  expect(h.line.requests().length).toBeGreaterThan(0);
  expect(h.line.contractViolations()).toEqual([]);
});
