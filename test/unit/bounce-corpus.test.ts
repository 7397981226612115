// The classification corpus (issue 16): EVERY fixture under
// test/fixtures/bounces/ goes through readAndDecide (what the pipeline and
// `npm run classify` run) and each recipient's REASON and VERDICT are compared
// with the failure the fixture describes. The expected table is written from
// the formats' facts (what the bounce says), for real/ fixtures from the
// scenario in the file name (test/fixtures/bounces/real/README.txt).
//
// Reason: the platform's error reason (unknown_user, mailbox_full,
// invalid_domain, invalid_account, refused, unreachable — "expired", the queue
// giving up, is `unreachable` 41606), `undefined` when the text names no cause,
// or what the message is when it is not a failure (delayed, delivered,
// complaint, auto-reply, none). Verdict: hard, soft, undefined (a failure whose
// cause no rule knows: counts against nobody until qualified) or none (not a
// failure). Agreement figures per family are printed; every row must match.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { readAndDecide, type RecipientOutcome } from '../../inbound/process-report';

const DIR = join(__dirname, '..', 'fixtures', 'bounces');

type Verdict = 'hard' | 'soft' | 'undefined' | 'none';
/** One recipient: `[recipient, reason, verdict]`; recipient null for a report without one. */
type Row = readonly [string | null, string, Verdict];

const hard = (to: string, reason = 'unknown_user'): Row => [to, reason, 'hard'];
const soft = (to: string, reason: string): Row => [to, reason, 'soft'];
const not = (to: string | null, what: string): Row => [to, what, 'none'];

// prettier-ignore
const EXPECTED: Record<string, readonly Row[]> = {
  'amazon-ses/dsn.eml': [hard('sara@example.com')],
  'amazon-ses/notification.eml': [hard('ed@example.com'), soft('fay@example.com', 'mailbox_full')],
  // SES's plain notice names the recipient and no cause at all.
  'amazon-ses/text.eml': [['gus@example.com', 'undefined', 'undefined']],
  'aol/failure-notice.eml': [hard('yuri@example.com')],
  'arf/abuse.eml': [not('judy@example.net', 'complaint')],
  'au-kddi/ezweb-disabled.eml': [hard('kaori@ezweb.ne.jp', 'invalid_account')],
  'au-kddi/kddi-mailbox-full.eml': [soft('ken@au.com', 'mailbox_full')],
  'auto-reply/not-a-vacation-exim.eml': [soft('xavier@example.com', 'invalid_domain')],
  'auto-reply/vacation.eml': [not(null, 'auto-reply')],
  'barracuda/blocked.eml': [soft('olga@example.com', 'refused')],
  'courier/delayed.eml': [not('rosa@example.com', 'delayed')],
  'courier/undeliverable.eml': [hard('dora@example.com')],
  'dma/rcpt.eml': [soft('carl@example.com', 'mailbox_full')],
  'docomo/iso-2022-jp.eml': [hard('nao@docomo.ne.jp')],
  'docomo/unknown-user.eml': [hard('leo@docomo.ne.jp')],
  'domino/not-listed.eml': [hard('iris@notes.example.co.jp')],
  'exim/delayed.eml': [not('quinn@example.com', 'delayed')],
  'exim/rcpt-refused.eml': [hard('nina@example.com'), soft('oscar@example.com', 'mailbox_full')],
  'exim/retry-timeout.eml': [soft('peggy@unreachable.example', 'unreachable')],
  'exim/sender-named.eml': [hard('olive@example.com')],
  'gmail/address-not-found.eml': [hard('victor@example.com')],
  'gmail/delayed-qp.eml': [not('amy@example.com', 'delayed')],
  'gmail/old-format-rate.eml': [soft('wendy@example.com', 'refused')],
  'gmail/workspace-domain-not-found.eml': [soft('pia@nxdomain.example', 'invalid_domain')],
  'gmx/rcpt.eml': [hard('tina@example.de')],
  // "may not exist, or you may not have permission to post": a refusal of the sender, not a verdict on the group.
  'google-groups/no-permission.eml': [soft('team@googlegroups.com', 'refused')],
  'icloud/postfix.eml': [soft('ugo@example.com', 'refused')],
  'mailru/russian-preface.eml': [hard('rita@example.ru')],
  'mdaemon/permanent.eml': [hard('nora@example.com')],
  'messaging-server/report.eml': [hard('jack@ims.example.com')],
  'mimecast/failure.eml': [hard('lars@example.com')],
  'opensmtpd/delayed.eml': [not('eve@example.com', 'delayed')],
  'opensmtpd/error.eml': [hard('bella@example.com')],
  'other/person-quoting-bounce.eml': [not(null, 'none')],
  'other/reply.eml': [not(null, 'none')],
  'outlook/delayed.eml': [not('dina@example.com', 'delayed')],
  'outlook/exchange2003.eml': [hard('adam@corp.example')],
  'outlook/exchange2010-base64.eml': [hard('ben@fabrikam.example')],
  'outlook/o365-html-only.eml': [hard('mona@contoso.example')],
  'outlook/o365.eml': [hard('zoe@contoso.example')],
  // 553 5.1.8 about OUR sender domain: never against the recipient.
  'postfix/sender-domain.eml': [soft('finn@example.com', 'refused')],
  'postfix/text-only.eml': [hard('sybil@example.com'), soft('trent@nxdomain.example', 'invalid_domain')],
  'postfix/warning.eml': [not('uma@example.com', 'delayed')],
  'qmail/local-no-mailbox.eml': [hard('mallory@example.com')],
  'qmail/remote-user-unknown.eml': [hard('kim@example.com'), soft('lee@example.com', 'refused')],
  'real/dma/mailbox-full.eml': [soft('full@receiver.test', 'mailbox_full')],
  'real/dma/policy.eml': [soft('policy@receiver.test', 'refused')],
  'real/dma/unknown-user.eml': [hard('unknown@receiver.test')],
  'real/exim/mailbox-full-452.eml': [soft('full452@receiver.test', 'mailbox_full')],
  'real/exim/mailbox-full.eml': [soft('full@receiver.test', 'mailbox_full')],
  'real/exim/policy.eml': [soft('policy@receiver.test', 'refused')],
  'real/exim/unknown-user.eml': [hard('unknown@receiver.test')],
  'real/exim/unreachable.eml': [soft('x@unreachable.test', 'unreachable')],
  // OpenSMTPD says only "Envelope expired" (Status 4.4.7): the queue gave up.
  'real/opensmtpd/mailbox-full-452-expired.eml': [soft('full452@receiver.test', 'unreachable')],
  'real/opensmtpd/mailbox-full.eml': [soft('full@receiver.test', 'mailbox_full')],
  'real/opensmtpd/policy.eml': [soft('policy@receiver.test', 'refused')],
  'real/opensmtpd/unknown-user.eml': [hard('unknown@receiver.test')],
  'real/postfix/mailbox-full-452.eml': [soft('full452@receiver.test', 'mailbox_full')],
  'real/postfix/mailbox-full.eml': [soft('full@receiver.test', 'mailbox_full')],
  'real/postfix/policy.eml': [soft('policy@receiver.test', 'refused')],
  'real/postfix/unknown-user.eml': [hard('unknown@receiver.test')],
  'real/postfix/unreachable.eml': [soft('x@unreachable.test', 'unreachable')],
  'rfc3464/empty-delivery-status.eml': [hard('grace@example.com')],
  'rfc3464/forwarded-dsn.eml': [hard('heidi@example.com')],
  'rfc3464/global-dsn.eml': [hard('ユーザー@example.jp')],
  'rfc3464/nonstandard-actions.eml': [soft('dave@example.com', 'unreachable'), not('erin@example.com', 'delivered'), hard('frank@example.com')],
  'rfc3464/postfix-two-recipients.eml': [hard('alice@example.com'), soft('bob@example.net', 'mailbox_full')],
  'rfc3464/status-500-text-part.eml': [hard('ivan@example.com', 'invalid_account')],
  'rfc3464/truncated-original.eml': [hard('carol@example.com')],
  'rfc3464/unknown-text-layout.eml': [hard('ida@example.info', 'invalid_account')],
  'sendgrid/bounce.eml': [hard('hal@example.com')],
  'sendmail/text-only.eml': [hard('rupert@example.com')],
  'sendmail/transient.eml': [not('cody@example.com', 'delayed')],
  'softbank/unknown.eml': [hard('mia@softbank.ne.jp')],
  'trend-micro/user-unknown.eml': [hard('paul@example.com')],
  'unparseable/garbage.eml': [not(null, 'none')],
  'yahoo/failure-notice.eml': [hard('xena@example.com')],
  'yahoo/no-mx.eml': [soft('quentin@nomx.example', 'invalid_domain')],
  'yandex/postfix.eml': [soft('sam@example.ru', 'refused')],
  'zimbra/postfix.eml': [soft('vera@zimbra.example.com', 'mailbox_full')],
  'zoho/invalid-address.eml': [hard('jane@example.com'), soft('kurt@unreachable.example', 'unreachable')],
};

function fixtures(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return fixtures(path);
      return name.endsWith('.eml') ? [relative(DIR, path)] : [];
    });
}

/** `real/<mta>` for a real MTA's bounce, else the folder. */
function familyOf(file: string): string {
  const parts = file.split('/');
  return parts[0] === 'real' ? `real/${parts[1]}` : parts[0]!;
}

function rowOf(o: RecipientOutcome): Row {
  if (o.action !== 'bounce') return [o.recipient, o.action, 'none'];
  const q = o.qualification;
  const type = q?.errorType ?? 'undefined';
  return [o.recipient, q?.reason ?? 'undefined', type as Verdict];
}

const FILES = fixtures(DIR);

interface Result {
  file: string;
  expected: readonly Row[];
  actual: Row[];
  rules: string[];
}

const results: Result[] = [];

beforeAll(async () => {
  for (const file of FILES) {
    const { classification } = await readAndDecide(readFileSync(join(DIR, file)), []);
    results.push({
      file,
      expected: EXPECTED[file] ?? [],
      actual: classification.recipients.map(rowOf),
      rules: classification.recipients.map((o) => o.qualification?.ruleId ?? '-'),
    });
  }
  // Agreement per family, per expected recipient row (a missing recipient disagrees on both).
  const byFamily = new Map<string, { rows: number; reason: number; verdict: number }>();
  const total = { rows: 0, reason: 0, verdict: 0 };
  for (const r of results) {
    const f = byFamily.get(familyOf(r.file)) ?? { rows: 0, reason: 0, verdict: 0 };
    r.expected.forEach(([to, reason, verdict]) => {
      const got = r.actual.find((a) => a[0] === to);
      for (const acc of [f, total]) {
        acc.rows++;
        if (got?.[1] === reason) acc.reason++;
        if (got?.[2] === verdict) acc.verdict++;
      }
    });
    byFamily.set(familyOf(r.file), f);
  }
  const pct = (n: number, d: number) => (d === 0 ? '-' : `${((100 * n) / d).toFixed(1)} %`);
  const table = [...byFamily.entries()].map(([family, f]) => ({
    family,
    rows: f.rows,
    reason: pct(f.reason, f.rows),
    verdict: pct(f.verdict, f.rows),
  }));
  table.push({
    family: 'ALL',
    rows: total.rows,
    reason: pct(total.reason, total.rows),
    verdict: pct(total.verdict, total.rows),
  });
  console.table(table);
});

describe('bounce classification corpus', () => {
  it('has an expected reading for every fixture, and no stale one', () => {
    expect(FILES.filter((f) => !(f in EXPECTED))).toEqual([]);
    expect(Object.keys(EXPECTED).filter((f) => !FILES.includes(f))).toEqual([]);
  });

  it.each(FILES)('%s: reason and verdict per recipient', (file) => {
    const r = results.find((x) => x.file === file)!;
    expect({ file, rows: r.actual, rules: r.rules }).toEqual({
      file,
      rows: r.expected,
      rules: r.rules,
    });
  });
});
