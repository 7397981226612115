// Every rule that production runs inside PostgreSQL, compiled from domain/,
// gives the same answers as its domain function: the same cases go through
// the production statement on the suite's real database and through the
// TypeScript reading of the rule, and the two answers are compared whole.
//
// Cases are generated from a fixed seed (a failure names it), plus the
// boundaries each rule has (exact thresholds, nulls, white space, prefixes).
import type { Pool } from 'pg';
import { prepareLineTargets } from '../../db/line-queries';
import { createPool, inTransaction } from '../../db/pool';
import { releaseMailboxFullAddresses } from '../../db/address-queries';
import { countDomainOutcomes, loadDomainRules } from '../../db/domain-queries';
import { applyValidity, prepareEmailTargets, type ValidityFact } from '../../db/run-queries';
import { prepareSmsTargets } from '../../db/sms-queries';
import {
  HOUR_WINDOW_OPEN_RULE,
  TRIP_RULE,
  hourWindowOpen,
  ruleFor,
  shouldTrip,
} from '../../domain/domain-throttle';
import { compileRule, evaluateRule, ruleInputs, type Rule, type RuleValue } from '../../domain/rule-expr';
import {
  exclusionReasonRule,
  ignoredErrorRule,
  resolveTargets,
  TARGET_RULES,
  type TargetCandidate,
  type TargetChannel,
} from '../../domain/target-exclusions';
import {
  ADDRESS_STATUS_RULES,
  DEFAULT_QUARANTINE_AFTER_CONSECUTIVE_ERRORS,
  LEAD_VALIDITY_RULES,
  MAILBOX_FULL_RELEASE_RULES,
  leadReleasedWithMailbox,
  mailboxFullReleased,
  nextAddressStatus,
  nextLeadValidity,
  summarizeEvidence,
} from '../../domain/validity';
import { uniqueSuffix } from '../support/harness';

let pool: Pool;

beforeAll(() => {
  const url = process.env.TEST_DATABASE_URL_READY;
  if (!url) throw new Error('run through jest: global setup provides the database');
  pool = createPool(url, 4);
});

afterAll(async () => {
  await pool?.end();
});

/** A small deterministic generator (mulberry32), so a failing case can be replayed from its seed. */
function generator(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!,
    chance: (p: number) => next() < p,
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
  };
}

const SEEDS = [1, 7, 2026];
const asciiLower = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());

// ---------------------------------------------------------------- rules one by one

type SqlType = 'text' | 'boolean' | 'int' | 'float8' | 'timestamptz';

/** The compiled rule's value in PostgreSQL for one set of inputs (times as epoch milliseconds). */
async function inPostgres(rule: Rule, types: Record<string, SqlType>, inputs: Record<string, RuleValue>) {
  const names = [...ruleInputs(rule)];
  const bindings = Object.fromEntries(names.map((n, i) => [n, `$${i + 1}::${types[n] ?? '?'}`]));
  const params = names.map((n) => {
    const v = inputs[n] ?? null;
    return types[n] === 'timestamptz' && v !== null ? new Date(v as number).toISOString() : v;
  });
  const res = await pool.query<{ v: unknown }>(`SELECT ${compileRule(rule, bindings)} AS v`, params);
  const v = res.rows[0]!.v;
  return v instanceof Date ? v.getTime() : (v as RuleValue);
}

async function expectSameEverywhere(
  rule: Rule,
  types: Record<string, SqlType>,
  cases: ReadonlyArray<Record<string, RuleValue>>,
) {
  const differences: unknown[] = [];
  for (const inputs of cases) {
    const expected = evaluateRule(rule, inputs);
    const actual = await inPostgres(rule, types, inputs);
    if (actual !== expected) differences.push({ inputs, domain: expected, postgres: actual });
  }
  expect(differences).toEqual([]);
}

const EMAIL_SAMPLES = [
  null,
  '',
  'a@b.jp',
  'A.B@Example.JP',
  'a@b',
  '@b.jp',
  'a@.jp',
  'a@b.',
  'a@@b.jp',
  'a b@c.jp',
  'a@b .jp',
  ' a@b.jp',
  'a@b.jp ',
  'a\t@b.jp',
  'a@b.jp\n',
  'a\u000b@b.jp',
  'a\f@b.jp',
  'a\r@b.jp',
  'a\u3000b@c.jp',
  'a\u00a0b@c.jp',
  '\ufeffa@b.jp',
  'ａ@ｂ.ｊｐ',
  '山田@例え.jp',
  'x@y.z.w',
  'a+tag@b.co.jp',
  "o'brien@b.jp",
];

const PHONE_SAMPLES = [
  null,
  '',
  '   ',
  ' 090-1234-5678 ',
  '09012345678',
  '+81 90 1234 5678',
  '+81-90-1234-5678',
  '0081 90 1234 5678',
  '81-90-1234-5678',
  '(03) 1234-5678',
  '0',
  '00',
  '+',
  'abc',
  '\t09012345678',
  '０９０１２３４５６７８',
  '+0 12',
];

const LINE_SAMPLES = [
  null,
  '',
  ' ',
  `U${'0123456789abcdef'.repeat(2)}`,
  `U${'0123456789ABCDEF'.repeat(2)}`,
  `u${'0123456789abcdef'.repeat(2)}`,
  `U${'0123456789abcdef'.repeat(2)}0`,
  ` U${'0123456789abcdef'.repeat(2)}`,
  `U${'0123456789abcdef'.repeat(2)}\n`,
];

describe('each compiled rule agrees with its domain reading, case by case', () => {
  test('the exclusion reason of every channel', async () => {
    const g = generator(SEEDS[0]!);
    const bools = [true, false, null];
    for (const channel of ['email', 'sms', 'line'] as TargetChannel[]) {
      const rules = TARGET_RULES[channel];
      const types: Record<string, SqlType> = { address: 'text' };
      for (const name of rules.inputs) {
        types[name] = [
          'email',
          'phone',
          'lineUserId',
          'addressStatus',
          'countryCallingCode',
          'addressErrorType',
          'addressErrorReason',
        ].includes(name)
          ? 'text'
          : ['addressErrorCount', 'quarantineThreshold'].includes(name)
            ? 'int'
            : 'boolean';
      }
      const cases: Array<Record<string, RuleValue>> = [];
      const samples = channel === 'email' ? EMAIL_SAMPLES : channel === 'sms' ? PHONE_SAMPLES : LINE_SAMPLES;
      for (let i = 0; i < 120; i++) {
        const inputs: Record<string, RuleValue> = {};
        for (const name of rules.inputs) {
          if (types[name] === 'boolean') inputs[name] = g.pick(bools);
          else if (name === 'addressStatus')
            inputs[name] = g.pick([null, 'blocklisted', 'quarantined', 'erroneous', 'allowlisted']);
          else if (name === 'countryCallingCode') inputs[name] = g.pick(['81', '1']);
          else if (name === 'addressErrorCount') inputs[name] = g.pick([null, 0, 1, 2, 4, 5, 6]);
          else if (name === 'quarantineThreshold') inputs[name] = g.int(1, 6);
          else if (name === 'addressErrorType') inputs[name] = g.pick([null, 'hard', 'soft', 'undefined']);
          else if (name === 'addressErrorReason')
            inputs[name] = g.pick([null, 'unknown_user', 'invalid_account', 'mailbox_full']);
          else inputs[name] = g.pick(samples);
        }
        inputs.address = evaluateRule(rules.address, inputs);
        cases.push(inputs);
      }
      await expectSameEverywhere(exclusionReasonRule(channel), types, cases);
      await expectSameEverywhere(ignoredErrorRule(channel), types, cases);
      await expectSameEverywhere(rules.address, types, cases);
      await expectSameEverywhere(
        rules.dedupeKey,
        types,
        cases.filter((c) => c.address !== null),
      );
    }
  });

  test('the lead validity and address status rules', async () => {
    const g = generator(SEEDS[1]!);
    const types: Record<string, SqlType> = {
      valid: 'boolean',
      consecutiveErrors: 'int',
      delivered: 'boolean',
      errors: 'int',
      invalidNow: 'boolean',
      quarantineNow: 'boolean',
      threshold: 'int',
      priorStatus: 'text',
      priorErrors: 'int',
    };
    const cases = Array.from({ length: 150 }, () => ({
      valid: g.chance(0.8),
      consecutiveErrors: g.int(0, 6),
      delivered: g.chance(0.3),
      errors: g.int(0, 4),
      invalidNow: g.chance(0.2),
      quarantineNow: g.chance(0.2),
      threshold: g.int(1, 5),
      priorStatus: g.pick([null, 'valid', 'erroneous', 'quarantined', 'blocklisted', 'allowlisted']),
      priorErrors: g.pick([null, 0, 1, 2, 3, 4]),
    }));
    for (const rule of [
      LEAD_VALIDITY_RULES.consecutiveErrors,
      LEAD_VALIDITY_RULES.valid,
      LEAD_VALIDITY_RULES.changes,
      ADDRESS_STATUS_RULES.recorded,
      ADDRESS_STATUS_RULES.status,
    ]) {
      await expectSameEverywhere(rule, types, cases);
    }
  });

  test('the MX breaker at and around its thresholds, and the hourly window at its edge', async () => {
    const types: Record<string, SqlType> = {
      messages: 'int',
      errors: 'int',
      minMessages: 'int',
      errorRateThreshold: 'float8',
    };
    const cases: Array<Record<string, RuleValue>> = [];
    for (const [messages, minMessages] of [
      [0, 0],
      [0, 300],
      [299, 300],
      [300, 300],
      [301, 300],
      [10, 10],
      [3, 1],
      [7, 7],
    ] as const) {
      for (const threshold of [0.1, 0.3, 0.5, 0.7, 0.9, 1, 1 / 3, 2 / 3]) {
        for (const errors of new Set([
          0,
          1,
          Math.floor(messages * threshold),
          Math.ceil(messages * threshold),
          messages,
        ])) {
          cases.push({ messages, errors, minMessages, errorRateThreshold: threshold });
        }
      }
    }
    await expectSameEverywhere(TRIP_RULE, types, cases);
    const now = Date.parse('2026-12-02T12:00:00.000Z');
    await expectSameEverywhere(
      HOUR_WINDOW_OPEN_RULE,
      { hourStartedAt: 'timestamptz', now: 'timestamptz' },
      [null, now - 3600_000 - 1, now - 3600_000, now - 3600_000 + 1, now - 60_000, now, now + 1000].map(
        (hourStartedAt) => ({ hourStartedAt, now }),
      ),
    );
  });

  test('the mailbox-full release at its 30-day edge', async () => {
    const now = Date.parse('2026-12-02T12:00:00.000Z');
    const day = 24 * 3600_000;
    const cases: Array<Record<string, RuleValue>> = [];
    for (const reason of [null, 'mailbox_full', 'unknown_user'])
      for (const status of ['valid', 'erroneous', 'quarantined', 'blocklisted'])
        for (const lastErrorAt of [
          null,
          now - 30 * day - 1,
          now - 30 * day,
          now - 30 * day + 1,
          now - 40 * day,
        ])
          cases.push({ reason, status, lastErrorAt, now, days: 30 });
    await expectSameEverywhere(
      MAILBOX_FULL_RELEASE_RULES.address,
      { reason: 'text', status: 'text', lastErrorAt: 'timestamptz', now: 'timestamptz', days: 'int' },
      cases,
    );
    const leadCases: Array<Record<string, RuleValue>> = [];
    for (const valid of [true, false])
      for (const consecutiveErrors of [0, 1, 3])
        for (const otherErrorSinceDelivery of [true, false])
          leadCases.push({ valid, consecutiveErrors, otherErrorSinceDelivery });
    await expectSameEverywhere(
      MAILBOX_FULL_RELEASE_RULES.lead,
      { valid: 'boolean', consecutiveErrors: 'int', otherErrorSinceDelivery: 'boolean' },
      leadCases,
    );
  });
});

// ---------------------------------------------------------------- the production statements

async function createTemplate(channel: TargetChannel): Promise<number> {
  const res = await pool.query<{ id: number }>(
    `INSERT INTO template (channel, title, created_at, updated_at) VALUES ($1, $2, now(), now()) RETURNING id`,
    [channel, `differential ${uniqueSuffix()}`],
  );
  return res.rows[0]!.id;
}

async function createRun(
  channel: TargetChannel,
  templateId: number,
  leadIds: number[],
  opts: { includeAlreadySent: boolean; permissionFilter: boolean; phoneField?: string },
): Promise<number> {
  const res = await pool.query<{ id: number }>(
    `INSERT INTO wizard_run (channel, template_id, template_title, target_kind, lead_ids, include_already_sent,
                             permission_filter, phone_field, status, workflow_id, created_at, updated_at)
     VALUES ($1, $2, 'differential', 'list', $3, $4, $5, $6, 'preparing', $7, now(), now()) RETURNING id`,
    [
      channel,
      templateId,
      leadIds,
      opts.includeAlreadySent,
      opts.permissionFilter,
      opts.phoneField ?? null,
      `differential-${uniqueSuffix()}${uniqueSuffix()}`,
    ],
  );
  return res.rows[0]!.id;
}

async function sentBefore(channel: TargetChannel, leadId: number, templateId: number, result: string) {
  await pool.query(
    `INSERT INTO send (channel, lead_id, address, template_id, token, result, created_at, updated_at)
     VALUES ($1, $2, 'x', $3, $4, $5, now(), now())`,
    [channel, leadId, templateId, `diff-${uniqueSuffix()}${uniqueSuffix()}`, result],
  );
}

async function recordedPreparation(runId: number) {
  // A run's targets are its sends, created pending and never attempted, numbered 1..n in lead order.
  const targets = await pool.query<{ lead_id: number; address: string; ignored_error: boolean; seq: number }>(
    `SELECT lead_id, address, ignored_error, seq FROM send
      WHERE run_id = $1 AND result = 'pending' AND attempts = 0 ORDER BY seq`,
    [runId],
  );
  expect(targets.rows.map((r) => r.seq)).toEqual(targets.rows.map((_, i) => i + 1));
  const excluded = await pool.query<{ lead_id: number; address: string | null; reason: string }>(
    'SELECT lead_id, address, reason FROM run_exclusion WHERE run_id = $1 ORDER BY lead_id',
    [runId],
  );
  return {
    targets: targets.rows.map((r) => ({
      leadId: r.lead_id,
      address: r.address,
      ignoredError: r.ignored_error,
    })),
    excluded: excluded.rows.map((r) => ({ leadId: r.lead_id, address: r.address, reason: r.reason })),
  };
}

interface AddressRow {
  status: string;
  errorCount: number;
  errorType: string | null;
  reason: string | null;
}

/** A status row as errors or an operator leave it, allowlisted ones with errors among them. */
async function insertAddressStatus(
  g: ReturnType<typeof generator>,
  channel: 'email' | 'sms',
  address: string,
): Promise<AddressRow> {
  const row: AddressRow = {
    status: g.pick(['blocklisted', 'quarantined', 'erroneous', 'allowlisted', 'allowlisted']),
    errorCount: g.pick([0, 1, 4, 5, 7]),
    errorType: g.pick([null, 'hard', 'soft']),
    reason: g.pick([null, 'unknown_user', 'invalid_account', 'mailbox_full']),
  };
  await pool.query(
    `INSERT INTO address_status (channel, address, status, error_count, error_type, reason, source, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, 'manual', now())`,
    [channel, address, row.status, row.errorCount, row.errorType, row.reason],
  );
  return row;
}

/** The rules' address inputs for a status row (none: no row), at the default quarantine threshold. */
function addressInputs(row: AddressRow | undefined): Record<string, RuleValue> {
  return {
    addressStatus: row?.status ?? null,
    addressErrorCount: row?.errorCount ?? null,
    addressErrorType: row?.errorType ?? null,
    addressErrorReason: row?.reason ?? null,
    quarantineThreshold: DEFAULT_QUARANTINE_AFTER_CONSECUTIVE_ERRORS,
  };
}

const RUN_OPTIONS = [
  { includeAlreadySent: false, permissionFilter: false },
  { includeAlreadySent: false, permissionFilter: true },
  { includeAlreadySent: true, permissionFilter: true },
];

describe.each(SEEDS)(
  'preparing a run gives the targets and unsent list resolveTargets gives (seed %i)',
  (seed) => {
    test('email', async () => {
      const g = generator(seed);
      const templateId = await createTemplate('email');
      const domain = `${uniqueSuffix()}.example`;
      const statuses = new Map<string, AddressRow>();
      const candidates: TargetCandidate[] = [];
      const facts: Array<{ leadId: number; inputs: Record<string, RuleValue> }> = [];
      for (let i = 0; i < 60; i++) {
        const local = g.pick(['a', 'b', 'c', 'B', 'd', 'e']);
        const email = g.chance(0.75)
          ? `${local}@${g.pick([domain, domain.toUpperCase()])}`
          : g.pick(EMAIL_SAMPLES);
        const lead = {
          email,
          emailValid: g.chance(0.85),
          unsubscribed: g.chance(0.1),
          dmPermission: g.chance(0.8),
        };
        const id = (
          await pool.query<{ id: number }>(
            `INSERT INTO lead (email, email_valid, dm_permission, unsubscribed_email_at, created_at, updated_at)
           VALUES ($1, $2, $3, CASE WHEN $4 THEN now() END, now(), now()) RETURNING id`,
            [lead.email, lead.emailValid, lead.dmPermission, lead.unsubscribed],
          )
        ).rows[0]!.id;
        const key = email === null ? null : asciiLower(email);
        if (key !== null && key.endsWith(`@${domain}`) && !statuses.has(key) && g.chance(0.3)) {
          statuses.set(key, await insertAddressStatus(g, 'email', key));
        }
        let sent = false;
        if (g.chance(0.2)) {
          const result = g.pick(['delivered', 'sent', 'error']);
          await sentBefore('email', id, templateId, result);
          sent = result !== 'error';
        }
        facts.push({
          leadId: id,
          inputs: { ...lead, sentThisTemplateBefore: sent, addressKey: key },
        });
      }
      for (const opts of RUN_OPTIONS) {
        const runId = await createRun(
          'email',
          templateId,
          facts.map((f) => f.leadId),
          opts,
        );
        await prepareEmailTargets(pool, runId);
        candidates.length = 0;
        for (const f of facts) {
          const { addressKey, ...inputs } = f.inputs;
          candidates.push({
            leadId: f.leadId,
            inputs: {
              ...inputs,
              ...addressInputs(addressKey === null ? undefined : statuses.get(addressKey as string)),
              permissionFilter: opts.permissionFilter,
              includeAlreadySent: opts.includeAlreadySent,
            },
          });
        }
        expect(await recordedPreparation(runId)).toEqual(resolveTargets('email', candidates));
      }
    });

    test('sms', async () => {
      const g = generator(seed);
      const templateId = await createTemplate('sms');
      const leads: Array<{
        id: number;
        phones: Record<string, string | null>;
        inputs: Record<string, RuleValue>;
      }> = [];
      for (let i = 0; i < 60; i++) {
        const phones: Record<string, string | null> = {};
        for (const field of ['mobile', 'home']) if (g.chance(0.85)) phones[field] = g.pick(PHONE_SAMPLES);
        const inputs = { unsubscribed: g.chance(0.1), smsPermission: g.chance(0.8) };
        const id = (
          await pool.query<{ id: number }>(
            `INSERT INTO lead (phones, sms_permission, unsubscribed_sms_at, created_at, updated_at)
           VALUES ($1, $2, CASE WHEN $3 THEN now() END, now(), now()) RETURNING id`,
            [JSON.stringify(phones), inputs.smsPermission, inputs.unsubscribed],
          )
        ).rows[0]!.id;
        let sent = false;
        if (g.chance(0.2)) {
          const result = g.pick(['delivered', 'sent', 'error']);
          await sentBefore('sms', id, templateId, result);
          sent = result !== 'error';
        }
        leads.push({ id, phones, inputs: { ...inputs, sentThisTemplateBefore: sent } });
      }
      // Statuses of some of the numbers, stored in the normalized form of either calling code.
      const statuses = new Map<string, AddressRow>();
      // The samples are shared by every seed: no status of an earlier one stays.
      const keys = PHONE_SAMPLES.flatMap((phone) =>
        ['81', '1'].map((countryCallingCode) =>
          evaluateRule(TARGET_RULES.sms.dedupeKey, {
            address: evaluateRule(TARGET_RULES.sms.address, { phone }),
            countryCallingCode,
          }),
        ),
      );
      await pool.query(`DELETE FROM address_status WHERE channel = 'sms' AND address = ANY($1::text[])`, [
        keys.filter((k) => typeof k === 'string'),
      ]);
      for (const l of leads) {
        const phone = l.phones.mobile ?? null;
        if (phone === null || !g.chance(0.4)) continue;
        const key = evaluateRule(TARGET_RULES.sms.dedupeKey, {
          address: evaluateRule(TARGET_RULES.sms.address, { phone }),
          countryCallingCode: g.pick(['81', '1']),
        });
        if (typeof key !== 'string' || key === '' || statuses.has(key)) continue;
        statuses.set(key, await insertAddressStatus(g, 'sms', key));
      }
      for (const [i, opts] of RUN_OPTIONS.entries()) {
        const phoneField = i === 1 ? 'home' : undefined;
        const countryCallingCode = i === 2 ? '1' : '81';
        const runId = await createRun(
          'sms',
          templateId,
          leads.map((l) => l.id),
          { ...opts, phoneField },
        );
        await prepareSmsTargets(pool, runId, countryCallingCode);
        const candidates = leads.map((l) => {
          const phone = l.phones[phoneField ?? 'mobile'] ?? null;
          const key = evaluateRule(TARGET_RULES.sms.dedupeKey, {
            address: evaluateRule(TARGET_RULES.sms.address, { phone }),
            countryCallingCode,
          });
          return {
            leadId: l.id,
            phone,
            inputs: { ...l.inputs, ...addressInputs(statuses.get(String(key))) },
          };
        });
        const withRun = candidates.map(({ leadId, phone, inputs }) => ({
          leadId,
          inputs: {
            ...inputs,
            phone,
            countryCallingCode,
            permissionFilter: opts.permissionFilter,
            includeAlreadySent: opts.includeAlreadySent,
          },
        }));
        expect(await recordedPreparation(runId)).toEqual(resolveTargets('sms', withRun));
      }
    });

    test('line', async () => {
      const g = generator(seed);
      const templateId = await createTemplate('line');
      const own = `U${uniqueSuffix()}${uniqueSuffix()}${uniqueSuffix()}${uniqueSuffix()}`;
      const leads: Array<{ id: number; inputs: Record<string, RuleValue> }> = [];
      for (let i = 0; i < 60; i++) {
        const lineUserId = g.chance(0.5) ? own : g.pick(LINE_SAMPLES);
        const unsubscribed = g.chance(0.1);
        const id = (
          await pool.query<{ id: number }>(
            `INSERT INTO lead (line_user_id, unsubscribed_line_at, created_at, updated_at)
           VALUES ($1, CASE WHEN $2 THEN now() END, now(), now()) RETURNING id`,
            [lineUserId, unsubscribed],
          )
        ).rows[0]!.id;
        let sent = false;
        if (g.chance(0.2)) {
          const result = g.pick(['delivered', 'sent', 'error']);
          await sentBefore('line', id, templateId, result);
          sent = result !== 'error';
        }
        leads.push({ id, inputs: { lineUserId, unsubscribed, sentThisTemplateBefore: sent } });
      }
      for (const opts of RUN_OPTIONS) {
        const runId = await createRun(
          'line',
          templateId,
          leads.map((l) => l.id),
          opts,
        );
        await prepareLineTargets(pool, runId);
        const candidates = leads.map((l) => ({
          leadId: l.id,
          inputs: { ...l.inputs, includeAlreadySent: opts.includeAlreadySent },
        }));
        expect(await recordedPreparation(runId)).toEqual(resolveTargets('line', candidates));
      }
    });
  },
);

describe.each(SEEDS)('applyValidity writes what the domain rules say (seed %i)', (seed) => {
  test('leads and address statuses after a chunk of outcomes', async () => {
    const g = generator(seed);
    const threshold = g.int(1, 5);
    const quarantineThreshold = g.int(1, 6);
    const domain = `${uniqueSuffix()}.example`;
    const leads: Array<{ id: number; email: string; valid: boolean; consecutiveErrors: number }> = [];
    const priors = new Map<string, { status: string; errorCount: number }>();
    for (let i = 0; i < 40; i++) {
      const email = `l${i}@${domain}`;
      const state = { valid: g.chance(0.8), consecutiveErrors: g.int(0, threshold + 1) };
      const id = (
        await pool.query<{ id: number }>(
          `INSERT INTO lead (email, email_valid, email_error_count, created_at, updated_at)
           VALUES ($1, $2, $3, now(), now()) RETURNING id`,
          [email, state.valid, state.consecutiveErrors],
        )
      ).rows[0]!.id;
      leads.push({ id, email, ...state });
      if (g.chance(0.6)) {
        const prior = {
          status: g.pick(['valid', 'erroneous', 'quarantined', 'blocklisted', 'allowlisted']),
          errorCount: g.int(0, quarantineThreshold + 1),
        };
        priors.set(email, prior);
        await pool.query(
          `INSERT INTO address_status (channel, address, status, error_count, source, updated_at)
           VALUES ('email', $1, $2, $3, 'bounce', now())`,
          [email, prior.status, prior.errorCount],
        );
      }
    }
    const facts: ValidityFact[] = [];
    for (const lead of leads) {
      for (let k = g.int(0, 3); k > 0; k--) {
        const delivered = g.chance(0.25);
        facts.push({
          leadId: lead.id,
          // The address as the send recorded it: its case may differ from the status row's.
          address: g.chance(0.2) ? lead.email.toUpperCase() : lead.email,
          delivered,
          counts: !delivered && g.chance(0.7),
          invalidNow: !delivered && g.chance(0.15),
          quarantineNow: !delivered && g.chance(0.15),
          errorType: 'soft',
          reason: 'mailbox_full',
          at: new Date(),
        });
      }
    }
    await inTransaction(pool, (client) =>
      applyValidity(client, facts, {
        invalidAfterErrors: threshold,
        quarantineAfterErrors: quarantineThreshold,
      }),
    );

    const leadRows = await pool.query<{ id: number; email_valid: boolean; email_error_count: number }>(
      'SELECT id, email_valid, email_error_count FROM lead WHERE id = ANY($1::int[]) ORDER BY id',
      [leads.map((l) => l.id)],
    );
    const statusRows = await pool.query<{ address: string; status: string; error_count: number }>(
      `SELECT address, status, error_count FROM address_status WHERE channel = 'email' AND address LIKE $1 ORDER BY address`,
      [`%@${domain}`],
    );
    const expectedLeads = leads.map((l) => {
      const next = nextLeadValidity(l, summarizeEvidence(facts.filter((f) => f.leadId === l.id)), threshold);
      return { id: l.id, email_valid: next.valid, email_error_count: next.consecutiveErrors };
    });
    const expectedStatuses = leads
      .map((l) => ({
        address: l.email,
        next: nextAddressStatus(
          priors.get(l.email) ?? null,
          summarizeEvidence(facts.filter((f) => f.address.toLowerCase() === l.email)),
          quarantineThreshold,
        ),
      }))
      .filter((s) => s.next !== null)
      .map((s) => ({ address: s.address, status: s.next!.status, error_count: s.next!.errorCount }))
      .sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
    expect(leadRows.rows).toEqual(expectedLeads);
    expect(statusRows.rows).toEqual(expectedStatuses);
  });
});

describe('countDomainOutcomes trips the breaker where shouldTrip does', () => {
  test.each(SEEDS)('seed %i', async (seed) => {
    const g = generator(seed);
    const suffix = uniqueSuffix();
    const names = Array.from({ length: 30 }, (_, i) => `d${i}.${suffix}.example`);
    // A few domains with a rule of their own; the others fall to the `*` rule or the default.
    for (const name of names.slice(0, 8)) {
      await pool.query(
        `INSERT INTO domain_rule (domain, error_rate_threshold, min_messages, created_at, updated_at)
         VALUES ($1, $2, $3, now(), now())`,
        [name, g.pick([0.5, 0.9, 1, 1 / 3]), g.pick([1, 5, 10, 300])],
      );
    }
    const before = new Map<string, { messages: number; errors: number; hourStartedAt: Date | null }>();
    for (const name of names) {
      if (!g.chance(0.7)) continue;
      const messages = g.pick([0, 3, 9, 250, 299, 300]);
      const state = {
        messages,
        errors: g.int(0, messages),
        hourStartedAt: g.pick([null, new Date(Date.now() - 2 * 3600_000), new Date(Date.now() - 600_000)]),
      };
      before.set(name, state);
      await pool.query(
        `INSERT INTO domain_state (domain, messages, errors, hour_started_at, hour_count) VALUES ($1, $2, $3, $4, 5)`,
        [name, state.messages, state.errors, state.hourStartedAt],
      );
    }
    const counts = new Map<string, { messages: number; errors: number }>();
    for (const name of names) {
      const messages = g.pick([1, 2, 10, 50]);
      counts.set(name, { messages, errors: g.int(0, messages) });
    }
    const rules = await loadDomainRules(pool);
    const tripped = await countDomainOutcomes(pool, counts, rules);

    const expected = names.filter((name) => {
      const prior = before.get(name) ?? { messages: 0, errors: 0 };
      const add = counts.get(name)!;
      return shouldTrip(
        { messages: prior.messages + add.messages, errors: prior.errors + add.errors },
        ruleFor(name, rules),
      );
    });
    expect([...tripped].sort()).toEqual(expected.sort());
    expect(expected.length).toBeGreaterThan(0);

    const hours = await pool.query<{ domain: string; hour_count: number }>(
      'SELECT domain, hour_count FROM domain_state WHERE domain = ANY($1::text[]) ORDER BY domain',
      [names],
    );
    const now = Date.now();
    expect(hours.rows).toEqual(
      [...names].sort().map((name) => {
        const prior = before.get(name);
        const add = counts.get(name)!.messages;
        const open = prior !== undefined && hourWindowOpen(prior.hourStartedAt, now);
        return { domain: name, hour_count: open ? 5 + add : add };
      }),
    );
  });
});

describe('releaseMailboxFullAddresses frees what mailboxFullReleased and leadReleasedWithMailbox say', () => {
  test.each(SEEDS)('seed %i', async (seed) => {
    const g = generator(seed);
    const domain = `${uniqueSuffix()}.example`;
    const now = new Date();
    const day = 24 * 3600_000;
    const addresses: Array<{
      address: string;
      reason: string | null;
      status: string;
      lastErrorAt: Date | null;
      lead: { id: number; valid: boolean; consecutiveErrors: number; otherErrorSinceDelivery: boolean };
    }> = [];
    for (let i = 0; i < 30; i++) {
      const address = `m${i}@${domain}`;
      const row = {
        reason: g.pick([null, 'mailbox_full', 'mailbox_full', 'unknown_user']),
        status: g.pick(['erroneous', 'quarantined', 'quarantined', 'blocklisted', 'valid']),
        lastErrorAt: g.pick([null, new Date(now.getTime() - 29 * day), new Date(now.getTime() - 31 * day)]),
      };
      await pool.query(
        `INSERT INTO address_status (channel, address, status, reason, error_count, last_error_at, source, updated_at)
         VALUES ('email', $1, $2, $3, 3, $4, 'bounce', now())`,
        [address, row.status, row.reason, row.lastErrorAt],
      );
      const state = { valid: g.chance(0.3), consecutiveErrors: g.pick([0, 1, 3]) };
      const id = (
        await pool.query<{ id: number }>(
          `INSERT INTO lead (email, email_valid, email_error_count, created_at, updated_at)
           VALUES ($1, $2, $3, now(), now()) RETURNING id`,
          [address, state.valid, state.consecutiveErrors],
        )
      ).rows[0]!.id;
      // Its history: maybe a delivery, then maybe an error of another kind after (or before) it.
      const deliveredAt = g.chance(0.5) ? new Date(now.getTime() - 20 * day) : null;
      if (deliveredAt) {
        await pool.query(
          `INSERT INTO send (channel, lead_id, address, token, result, delivered_at, created_at, updated_at)
           VALUES ('email', $1, $2, $3, 'delivered', $4, $4, $4)`,
          [id, address, `mf-${uniqueSuffix()}${uniqueSuffix()}`, deliveredAt],
        );
      }
      let otherErrorSinceDelivery = false;
      if (g.chance(0.5)) {
        const reason = g.pick(['mailbox_full', 'unknown_user', null]);
        const at = new Date(now.getTime() - g.pick([10, 25]) * day);
        await pool.query(
          `INSERT INTO send (channel, lead_id, address, token, result, error_reason, created_at, updated_at)
           VALUES ('email', $1, $2, $3, 'error', $4, $5, $5)`,
          [id, address, `mf-${uniqueSuffix()}${uniqueSuffix()}`, reason, at],
        );
        otherErrorSinceDelivery = reason !== 'mailbox_full' && (deliveredAt === null || at > deliveredAt);
      }
      addresses.push({ address, ...row, lead: { id, ...state, otherErrorSinceDelivery } });
    }
    await releaseMailboxFullAddresses(pool, now);

    const statuses = await pool.query<{ address: string; status: string; error_count: number }>(
      `SELECT address, status, error_count FROM address_status WHERE channel = 'email' AND address LIKE $1 ORDER BY address`,
      [`%@${domain}`],
    );
    const leads = await pool.query<{ id: number; email_valid: boolean; email_error_count: number }>(
      'SELECT id, email_valid, email_error_count FROM lead WHERE id = ANY($1::int[]) ORDER BY id',
      [addresses.map((a) => a.lead.id)],
    );
    const released = addresses.map((a) => mailboxFullReleased(a, now));
    expect(released.some(Boolean)).toBe(true);
    expect(statuses.rows).toEqual(
      addresses
        .map((a, i) =>
          released[i]
            ? { address: a.address, status: 'valid', error_count: 0 }
            : { address: a.address, status: a.status, error_count: 3 },
        )
        .sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0)),
    );
    expect(leads.rows).toEqual(
      addresses
        .map((a, i) =>
          released[i] && leadReleasedWithMailbox(a.lead, a.lead.otherErrorSinceDelivery)
            ? { id: a.lead.id, email_valid: true, email_error_count: 0 }
            : { id: a.lead.id, email_valid: a.lead.valid, email_error_count: a.lead.consecutiveErrors },
        )
        .sort((a, b) => a.id - b.id),
    );
  });
});
