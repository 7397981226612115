// Issue 18: the notices the system mails — a run's status mail at start and
// end with its figures, the failure notice of a run and of a single send — are
// written in the account's language (DEFAULT_LANGUAGE: Japanese unless
// configured) with times in its time zone (ACCOUNT_TIME_ZONE: Asia/Tokyo
// unless configured), as the SMTP sink receives them.
import { startHarness, uniqueSuffix, waitFor, type Harness } from '../support/harness';
import { mailText as bodyOf } from '../support/mail-text';

/** YYYY-MM-DD HH:MM:SS of an instant shifted by a fixed offset (the test's own arithmetic, not Intl). */
function wallClock(iso: string, offsetMinutes: number): string {
  return new Date(Math.floor(Date.parse(iso) / 1000) * 1000 + offsetMinutes * 60_000)
    .toISOString()
    .slice(0, 19)
    .replace('T', ' ');
}

function helpers(get: () => Harness) {
  async function lead(email: string): Promise<number> {
    const res = await get().api('POST', '/v1/leads', { name: 'Lead', email });
    expect(res.status).toBe(201);
    return res.body.id;
  }
  async function template(tag: string): Promise<number> {
    const res = await get().api('POST', '/v1/templates', {
      channel: 'email',
      title: `お知らせ ${tag}`,
      subject: 'Hi {{name}}',
      from: 'news@example.test',
      bodyText: 'Hello',
      errorReplyTo: `errors.${tag}@example.test`,
    });
    expect(res.status).toBe(201);
    return res.body.id;
  }
  /** A run of one good and one hard-bouncing lead, to its end, with its status mail and failure notice. */
  async function runWithNotices() {
    const h = get();
    const tag = uniqueSuffix();
    const templateId = await template(tag);
    const leadIds = [await lead(`ok.${tag}@example.test`), await lead(`bounce550+${tag}@example.test`)];
    const created = await h.api('POST', '/v1/wizard-runs', {
      templateId,
      leadIds,
      statusMail: `status.${tag}@example.test`,
    });
    expect(created.status).toBe(201);
    const run = await waitFor('the run to complete with its waves', async () => {
      const r = (await h.api('GET', `/v1/wizard-runs/${created.body.id}`)).body;
      return r.status === 'completed' && r.waves.finishedAt ? r : null;
    });
    const status = await waitFor('start and end mails', async () => {
      const m = h.sink.messagesTo(`status.${tag}@example.test`);
      return m.length === 2 ? m : null;
    });
    const failure = await waitFor(
      'the failure notice',
      async () => h.sink.messagesTo(`errors.${tag}@example.test`)[0],
    );
    return { tag, run, templateId, status, failure };
  }
  async function failedSingleSend(templateId: number, tag: string) {
    const h = get();
    const leadId = await lead(`bounce550+single.${tag}@example.test`);
    const sent = await h.api('POST', '/v1/messages', { leadId, templateId });
    expect(sent.status).toBe(201);
    const send = await waitFor('the single send to fail', async () => {
      const s = (await h.api('GET', `/v1/sends/${sent.body.id}`)).body;
      return s.result === 'error' ? s : null;
    });
    const notice = await waitFor('its notice', async () =>
      h.sink.messagesTo(`errors.${tag}@example.test`).find((m) => /single send|単発送信/.test(m.subject)),
    );
    return { send, notice };
  }
  return { runWithNotices, failedSingleSend };
}

describe('by default (Japanese, Asia/Tokyo)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ sendBatchSize: 10, sendBatchesInFlight: 1 });
  });
  afterAll(async () => {
    await h?.stop();
  });
  const { runWithNotices, failedSingleSend } = helpers(() => h);

  test('when a run ends with a bounce, then its status mails and failure notice are in Japanese with JST times', async () => {
    const { tag, run, templateId, status, failure } = await runWithNotices();
    const start = status.find((m) => m.subject.includes('送信開始'))!;
    expect(start.subject).toBe(`【送信開始】ウィザード実行 ${run.id}: お知らせ ${tag}`);
    const startText = await bodyOf(start);
    expect(startText).toContain(`開始日時: ${wallClock(run.startedAt, 9 * 60)} JST`);
    expect(startText).toContain('送信対象: 2 件');

    const end = status.find((m) => m.subject.includes('完了'))!;
    expect(end.subject).toBe(`【完了】ウィザード実行 ${run.id}: お知らせ ${tag}`);
    const endText = await bodyOf(end);
    expect(endText).toContain(`完了日時: ${wallClock(run.completedAt, 9 * 60)} JST`);
    expect(endText).toContain('到達数: 1');
    expect(endText).toContain('到達率: 50 %');
    expect(endText).toContain('開封率: テキストメールには開封計測用の画像が入らないため計測できません');
    expect(endText).not.toMatch(/Delivered|Open rate/);

    expect(failure.subject).toBe(`【配信エラー】ウィザード実行 ${run.id}: お知らせ ${tag}`);
    const failureText = await bodyOf(failure);
    expect(failureText).toContain(`ウィザード実行 ${run.id} の 1 件のメッセージが配信できませんでした`);
    expect(failureText).toContain(`bounce550+${tag}@example.test`);
    expect(failureText).not.toContain(`ok.${tag}@example.test`);

    const { send, notice } = await failedSingleSend(templateId, tag);
    expect(notice.subject).toBe(`【配信エラー】単発送信 ${send.id}: お知らせ ${tag}`);
    const singleText = await bodyOf(notice);
    expect(singleText).toContain('メール の単発送信');
    expect(singleText).toMatch(/送信日時: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d JST/);
    expect(singleText).toContain(`bounce550+single.${tag}@example.test`);
  });
});

describe('with DEFAULT_LANGUAGE=en and ACCOUNT_TIME_ZONE=Asia/Kolkata', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      sendBatchSize: 10,
      sendBatchesInFlight: 1,
      defaultLanguage: 'en',
      accountTimeZone: 'Asia/Kolkata',
    });
  });
  afterAll(async () => {
    await h?.stop();
  });
  const { runWithNotices, failedSingleSend } = helpers(() => h);

  test('when a run ends with a bounce, then its status mails and failure notice are in English with the zone’s times', async () => {
    const { tag, run, templateId, status, failure } = await runWithNotices();
    const start = status.find((m) => m.subject.includes('started'))!;
    expect(start.subject).toBe(`Wizard run ${run.id} started: お知らせ ${tag}`);
    expect(await bodyOf(start)).toContain(`Started at: ${wallClock(run.startedAt, 330)} GMT+5:30`);

    const end = status.find((m) => m.subject.includes('completed'))!;
    const endText = await bodyOf(end);
    expect(endText).toContain(`Completed at: ${wallClock(run.completedAt, 330)} GMT+5:30`);
    expect(endText).toContain('Delivery rate: 50 %');
    expect(endText).not.toMatch(/到達|開封/);

    expect(failure.subject).toBe(`Delivery failures in wizard run ${run.id}: お知らせ ${tag}`);
    expect(await bodyOf(failure)).toContain(`bounce550+${tag}@example.test`);

    const { send, notice } = await failedSingleSend(templateId, tag);
    expect(notice.subject).toBe(`Delivery failure of single send ${send.id}: お知らせ ${tag}`);
    expect(await bodyOf(notice)).toMatch(/Sent at: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d GMT\+5:30/);
  });
});
