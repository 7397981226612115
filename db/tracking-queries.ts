// Queries of click, open and unsubscribe tracking (SPEC §8), shared by the
// renderer, the tracking endpoints and the figures API. The endpoints are hit
// by every recipient, so each hit is one or two statements over unique
// indexes, and each recording statement writes the event, the send and the
// run's counters together.
//
// Lock order, the same as recordOutcomes (db/outcomes.ts): send (or lead) first, then the
// run. Each data-modifying CTE reads the one it must follow, because
// PostgreSQL gives no order to CTEs that do not depend on each other.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { LinkPart } from '../domain/link-rewrite';
import { Pool } from 'pg';
import type { Queryable } from './pool';

/**
 * The pool click and open recordings go through: its commits do not wait for
 * their WAL flush. Every recording updates its run's counters in the same
 * statement, so the hits of one run queue on that row's lock; with a
 * synchronous commit the lock is held through an fsync and one run's clicks
 * are capped at the disk's flush rate. A database crash may lose the last
 * fraction of a second of clicks and opens (statistics), never half of one:
 * each is still one atomic statement. Unsubscribes use the durable pool.
 */
export function createTrackingRecorderPool(databaseUrl: string, max: number): Pool {
  const pool = new Pool({
    connectionString: databaseUrl,
    max,
    idleTimeoutMillis: 30_000,
    options: '-c synchronous_commit=off',
  });
  // An idle client losing its server (restart) must not crash the process.
  pool.on('error', () => undefined);
  return pool;
}

/** Parts of tracked_link that are not counted links. */
export type TokenPart = 'open' | 'unsubscribe';

/** 16 bytes from the CSPRNG, base64url: unguessable and unrelated to any id. */
export function newTrackingToken(): string {
  return randomBytes(16).toString('base64url');
}

/**
 * Derived tokens (issue 17): the open image's and the unsubscribe URL's token is one AES-128 block,
 * the send's id and the part under the database's tracking key (tracking_key), instead of a random
 * token stored in a tracked_link row per message. The block holds 8 fixed bytes (a tag, the part,
 * six zeros) and the send id: a token nobody derived decrypts to the fixed bytes with odds of
 * 2^-64, so it is as unguessable as a random one, and, being a block cipher's output, as unrelated
 * to the send's id. Same 16 bytes, same base64url shape (TRACKING_TOKEN) as a stored token; a
 * stored token (made before) is looked up as before.
 */
const DERIVED_PARTS: Record<DerivedPart, number> = { open: 0x6f, unsubscribe: 0x75, send: 0x73 };
const DERIVED_TAG = 0xd7;

/** What a derived token names: a tracking part, or the send itself (its VERP token, db/send-token.ts). */
export type DerivedPart = TokenPart | 'send';

interface TokenCipher {
  derive(sendId: string, part: TokenPart): string;
  /** The send a derived token of this part names; null for any other token. */
  sendOf(token: string, part: TokenPart): string | null;
}

/** The derived token's block (16 bytes) for a send and part, and the send a block names (null: none). */
export interface DerivedBlocks {
  block(sendId: string, part: DerivedPart): Buffer;
  sendOfBlock(raw: Buffer, part: DerivedPart): string | null;
}

const ciphers = new WeakMap<object, Promise<TokenCipher & DerivedBlocks>>();

function cipherOf(secret: Buffer): TokenCipher & DerivedBlocks {
  const key = createHash('sha256')
    .update('delivery tracking token v1\u0000')
    .update(secret)
    .digest()
    .subarray(0, 16);
  // ECB over exactly one block, no padding: one cipher and decipher serve every token.
  const enc = createCipheriv('aes-128-ecb', key, null).setAutoPadding(false);
  const dec = createDecipheriv('aes-128-ecb', key, null).setAutoPadding(false);
  const blocks: DerivedBlocks = {
    block(sendId, part) {
      const block = Buffer.alloc(16);
      block[0] = DERIVED_TAG;
      block[1] = DERIVED_PARTS[part];
      block.writeBigUInt64BE(BigInt(sendId), 8);
      return enc.update(block);
    },
    sendOfBlock(raw, part) {
      if (raw.length !== 16) return null;
      const block = dec.update(raw);
      if (block[0] !== DERIVED_TAG || block[1] !== DERIVED_PARTS[part]) return null;
      for (let i = 2; i < 8; i++) if (block[i] !== 0) return null;
      return block.readBigUInt64BE(8).toString();
    },
  };
  return {
    ...blocks,
    derive: (sendId, part) => blocks.block(sendId, part).toString('base64url'),
    sendOf: (token, part) => blocks.sendOfBlock(Buffer.from(token, 'base64url'), part),
  };
}

/** The tracking key's cipher, read once per pool (or client) from the database. */
function tokenCipher(db: Queryable): Promise<TokenCipher & DerivedBlocks> {
  let c = ciphers.get(db);
  if (!c) {
    c = (async () => {
      const res = await db.query<{ secret: Buffer }>('SELECT secret FROM tracking_key WHERE id = 1');
      const secret = res.rows[0]?.secret;
      if (!secret) throw new Error('no tracking key (tracking_key): run the migrations');
      return cipherOf(secret);
    })();
    c.catch(() => ciphers.delete(db));
    ciphers.set(db, c);
  }
  return c;
}

/** The derived tokens' blocks under the tracking key (db/send-token.ts derives the send's own token). */
export function derivedBlocks(db: Queryable): Promise<DerivedBlocks> {
  return tokenCipher(db);
}

/** The send a derived open or unsubscribe token names, or null (a stored token, or none of ours). */
export async function derivedTokenSend(
  db: Queryable,
  token: string,
  part: TokenPart,
): Promise<string | null> {
  return (await tokenCipher(db)).sendOf(token, part);
}

export interface WantedToken {
  sendId: string;
  part: LinkPart | TokenPart;
  /** The original URL of a counted link; '' for the open image and the unsubscribe URL. */
  url: string;
}

export function tokenKey(sendId: string, part: string, url: string): string {
  return `${sendId}\u0000${part}\u0000${url}`;
}

/**
 * Store the tokens of a batch of sends and return every token by tokenKey. A
 * (send, part, URL) that already has a token (the send is rendered again for
 * a retry) keeps it: the mail sent first stays valid. The common case, a
 * first attempt, is one INSERT; only keys it did not insert are looked up.
 */
export async function ensureTrackingTokens(
  db: Queryable,
  wanted: readonly WantedToken[],
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (wanted.length === 0) return out;
  const unique = new Map<string, WantedToken>();
  let cipher: TokenCipher | null = null;
  for (const w of wanted) {
    const key = tokenKey(w.sendId, w.part, w.url);
    if (w.part === 'open' || w.part === 'unsubscribe') {
      // Derived, not stored: the same send and part always get the same token.
      cipher ??= await tokenCipher(db);
      out.set(key, cipher.derive(w.sendId, w.part));
    } else unique.set(key, w);
  }
  const rows = [...unique.values()];
  if (rows.length === 0) return out;
  const inserted = await db.query<{ send_id: string; part: string; url: string; token: string }>(
    `INSERT INTO tracked_link (send_id, part, url, token)
     SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[])
     ON CONFLICT (send_id, part, md5(url)) DO NOTHING
     RETURNING send_id, part, url, token`,
    [
      rows.map((r) => r.sendId),
      rows.map((r) => r.part),
      rows.map((r) => r.url),
      rows.map(() => newTrackingToken()),
    ],
  );
  for (const r of inserted.rows) out.set(tokenKey(r.send_id, r.part, r.url), r.token);
  const existing = rows.filter((r) => !out.has(tokenKey(r.sendId, r.part, r.url)));
  if (existing.length > 0) {
    const found = await db.query<{ send_id: string; part: string; url: string; token: string }>(
      `SELECT t.send_id, t.part, t.url, t.token
         FROM unnest($1::bigint[], $2::text[], $3::text[]) AS v(send_id, part, url)
         JOIN tracked_link t ON t.send_id = v.send_id AND t.part = v.part AND md5(t.url) = md5(v.url) AND t.url = v.url`,
      [existing.map((r) => r.sendId), existing.map((r) => r.part), existing.map((r) => r.url)],
    );
    for (const r of found.rows) out.set(tokenKey(r.send_id, r.part, r.url), r.token);
  }
  return out;
}

export interface TokenTarget {
  linkId: string;
  sendId: string;
  url: string;
  part: string;
}

const NOT_A_LINK = `('open', 'unsubscribe')`;

/** What a token points at, read-only (HEAD requests): null when unknown or of another kind. */
export async function findToken(
  db: Queryable,
  token: string,
  kind: 'click' | TokenPart,
): Promise<TokenTarget | null> {
  if (kind !== 'click') {
    const sendId = await derivedTokenSend(db, token, kind);
    if (sendId) {
      const exists = await db.query('SELECT 1 FROM send WHERE id = $1', [sendId]);
      if ((exists.rowCount ?? 0) > 0) return { linkId: '', sendId, url: '', part: kind };
    }
  }
  const res = await db.query<{ id: string; send_id: string; url: string; part: string }>({
    name: 'tracking-find-token',
    text: `SELECT id, send_id, url, part FROM tracked_link
      WHERE token = $1 AND (CASE WHEN $2 = 'click' THEN part NOT IN ${NOT_A_LINK} ELSE part = $2 END)`,
    values: [token, kind],
  });
  const r = res.rows[0];
  return r ? { linkId: r.id, sendId: r.send_id, url: r.url, part: r.part } : null;
}

/** A click's link and what earlier events of its send say (the facts domain/bot-clicks judges). */
export interface ClickContext extends TokenTarget {
  deliveredAt: Date | null;
  sameLinkClicksBefore: number;
  /** Distinct other links of the send clicked before. */
  otherLinksClicked: number;
  /** Distinct other links of the send clicked within the burst window before `at`. */
  otherLinksInBurstWindow: number;
  linksInMessage: number;
}

export async function loadClickContext(
  db: Queryable,
  token: string,
  at: Date,
  burstWindowMs: number,
): Promise<ClickContext | null> {
  const res = await db.query<{
    id: string;
    send_id: string;
    url: string;
    part: string;
    delivered_at: Date | null;
    same_link: number;
    other_links: number;
    other_links_in_window: number;
    links_in_message: number;
  }>({
    name: 'tracking-click-context',
    text: `SELECT l.id, l.send_id, l.url, l.part, s.delivered_at, ev.same_link, ev.other_links, ev.other_links_in_window,
            (SELECT count(*) FROM tracked_link t WHERE t.send_id = l.send_id AND t.part NOT IN ${NOT_A_LINK})::int AS links_in_message
       FROM tracked_link l
       JOIN send s ON s.id = l.send_id
       CROSS JOIN LATERAL (
         SELECT count(*) FILTER (WHERE e.link_id = l.id)::int AS same_link,
                count(DISTINCT e.link_id) FILTER (WHERE e.link_id <> l.id)::int AS other_links,
                count(DISTINCT e.link_id) FILTER (WHERE e.link_id <> l.id AND e.at > $2::timestamptz - $3 * interval '1 millisecond'
                                                  AND e.at <= $2)::int AS other_links_in_window
           FROM tracking_event e WHERE e.send_id = l.send_id AND e.kind = 'click'
       ) ev
      WHERE l.token = $1 AND l.part NOT IN ${NOT_A_LINK}`,
    values: [token, at.toISOString(), burstWindowMs],
  });
  const r = res.rows[0];
  if (!r) return null;
  return {
    linkId: r.id,
    sendId: r.send_id,
    url: r.url,
    part: r.part,
    deliveredAt: r.delivered_at,
    sameLinkClicksBefore: r.same_link,
    otherLinksClicked: r.other_links,
    otherLinksInBurstWindow: r.other_links_in_window,
    linksInMessage: r.links_in_message,
  };
}

export interface Visit {
  at: Date;
  ip: string | null;
  userAgent: string | null;
}

export interface RecordedClick {
  /** The send's click count including this one; 1 = its first click. */
  sendClicks: number;
}

/**
 * Record one click: the event, the send's click count and the run's click and
 * clicker counts, in one statement. A click judged part of a burst also marks
 * the earlier clicks of that burst: a scanner's first URLs are machine clicks
 * too, they just could not be recognised alone.
 */
export async function recordClick(
  db: Queryable,
  click: {
    sendId: string;
    linkId: string;
    visit: Visit;
    suspected: boolean;
    reasons: readonly string[];
    burstWindowMs: number;
  },
): Promise<RecordedClick | null> {
  const burst = click.reasons.includes('burst_of_urls');
  const res = await db.query<{ click_count: number }>({
    name: 'tracking-record-click',
    text: `WITH s AS (
       UPDATE send SET click_count = click_count + 1, updated_at = now() WHERE id = $1 RETURNING id, run_id, click_count
     ), ev AS (
       INSERT INTO tracking_event (kind, send_id, link_id, at, ip, user_agent, suspected_bot, bot_reasons)
       SELECT 'click', s.id, $2, $3, $4, $5, $6, $7::text[] FROM s
       RETURNING id
     ), earlier_burst AS (
       UPDATE tracking_event e
          SET suspected_bot = true, bot_reasons = array_append(coalesce(e.bot_reasons, '{}'), 'burst_of_urls')
         FROM s
        WHERE $8 AND e.send_id = s.id AND e.kind = 'click'
          AND e.at > $3::timestamptz - $9 * interval '1 millisecond' AND e.at <= $3
          AND NOT ('burst_of_urls' = ANY (coalesce(e.bot_reasons, '{}')))
     ), r AS (
       UPDATE wizard_run w
          SET click_count = w.click_count + 1,
              clicker_count = w.clicker_count + CASE WHEN s.click_count = 1 THEN 1 ELSE 0 END,
              updated_at = now()
         FROM s WHERE w.id = s.run_id
     )
     SELECT s.click_count FROM s, (SELECT count(*) FROM ev) AS inserted`,
    values: [
      click.sendId,
      click.linkId,
      click.visit.at.toISOString(),
      click.visit.ip,
      click.visit.userAgent,
      click.suspected,
      click.reasons.length > 0 ? click.reasons : null,
      burst,
      click.burstWindowMs,
    ],
  });
  const r = res.rows[0];
  return r ? { sendClicks: r.click_count } : null;
}

/**
 * Record one open by its token: the event, the send's first-open time and,
 * the first time, the run's opener count. False when the token is unknown
 * (nothing is written then).
 */
export async function recordOpen(
  db: Queryable,
  token: string,
  visit: Visit,
  suspected: boolean,
  reasons: readonly string[],
): Promise<boolean> {
  const derived = await derivedTokenSend(db, token, 'open');
  const res = await db.query<{ found: number }>({
    name: 'tracking-record-open',
    text: `WITH l AS (
       SELECT send_id FROM tracked_link WHERE token = $1 AND part = 'open' AND $7::bigint IS NULL
       UNION ALL
       SELECT id FROM send WHERE id = $7::bigint
     ), first_open AS (
       UPDATE send s SET opened_at = $2, updated_at = now() FROM l WHERE s.id = l.send_id AND s.opened_at IS NULL
       RETURNING s.run_id
     ), r AS (
       UPDATE wizard_run w SET opener_count = w.opener_count + 1, updated_at = now()
         FROM first_open f WHERE w.id = f.run_id
       RETURNING w.id
     ), ev AS (
       INSERT INTO tracking_event (kind, send_id, at, ip, user_agent, suspected_bot, bot_reasons)
       SELECT 'open', l.send_id, $2, $3, $4, $5, $6::text[] FROM l, (SELECT count(*) FROM r) AS after_counters
       RETURNING send_id
     )
     SELECT count(*)::int AS found FROM ev`,
    values: [
      token,
      visit.at.toISOString(),
      visit.ip,
      visit.userAgent,
      suspected,
      reasons.length > 0 ? reasons : null,
      derived,
    ],
  });
  return (res.rows[0]?.found ?? 0) > 0;
}

export interface UnsubscribeTarget {
  sendId: string;
  channel: string;
  /** The lead has already stopped this channel. */
  unsubscribed: boolean;
}

/** What an unsubscribe token points at, read-only (the confirmation page, HEAD). */
export async function findUnsubscribeTarget(db: Queryable, token: string): Promise<UnsubscribeTarget | null> {
  const derived = await derivedTokenSend(db, token, 'unsubscribe');
  const res = await db.query<{ send_id: string; channel: string; unsubscribed: boolean }>({
    name: 'tracking-find-unsubscribe',
    text: `SELECT s.id AS send_id, s.channel,
            coalesce(CASE s.channel WHEN 'email' THEN ld.unsubscribed_email_at IS NOT NULL
                                    WHEN 'sms' THEN ld.unsubscribed_sms_at IS NOT NULL
                                    WHEN 'line' THEN ld.unsubscribed_line_at IS NOT NULL END, false) AS unsubscribed
       FROM (SELECT send_id FROM tracked_link WHERE token = $1 AND part = 'unsubscribe' AND $2::bigint IS NULL
             UNION ALL SELECT $2::bigint) l
       JOIN send s ON s.id = l.send_id LEFT JOIN lead ld ON ld.id = s.lead_id`,
    values: [token, derived],
  });
  const r = res.rows[0];
  return r ? { sendId: r.send_id, channel: r.channel, unsubscribed: r.unsubscribed } : null;
}

/**
 * One-click unsubscribe (RFC 8058): stop the send's channel for its lead and
 * for the lead it was merged into, if any (the person asked, whichever record
 * now holds them); record the event once per send and count it on the run
 * the first time only. Idempotent. Null when the token is unknown.
 */
export async function recordUnsubscribe(
  db: Queryable,
  token: string,
  visit: Visit,
): Promise<{ first: boolean } | null> {
  const derived = await derivedTokenSend(db, token, 'unsubscribe');
  const res = await db.query<{ found: number; first: number }>({
    name: 'tracking-record-unsubscribe',
    text: `WITH RECURSIVE s AS (
       SELECT s.id, s.lead_id, s.run_id, s.channel
         FROM (SELECT send_id FROM tracked_link WHERE token = $1 AND part = 'unsubscribe' AND $5::bigint IS NULL
               UNION ALL SELECT $5::bigint) l
         JOIN send s ON s.id = l.send_id
     ), person (lead_id, depth) AS (
       SELECT lead_id, 0 FROM s
       UNION
       SELECT ld.merged_into_id, p.depth + 1 FROM person p JOIN lead ld ON ld.id = p.lead_id
        WHERE ld.merged_into_id IS NOT NULL AND p.depth < 10
     ), stopped AS (
       UPDATE lead ld
          SET unsubscribed_email_at = CASE WHEN s.channel = 'email' THEN coalesce(ld.unsubscribed_email_at, $2) ELSE ld.unsubscribed_email_at END,
              unsubscribed_sms_at = CASE WHEN s.channel = 'sms' THEN coalesce(ld.unsubscribed_sms_at, $2) ELSE ld.unsubscribed_sms_at END,
              unsubscribed_line_at = CASE WHEN s.channel = 'line' THEN coalesce(ld.unsubscribed_line_at, $2) ELSE ld.unsubscribed_line_at END,
              updated_at = now()
         FROM s WHERE ld.id IN (SELECT lead_id FROM person)
       RETURNING ld.id
     ), ev AS (
       INSERT INTO tracking_event (kind, send_id, at, ip, user_agent)
       SELECT 'unsubscribe', s.id, $2, $3, $4 FROM s, (SELECT count(*) FROM stopped) AS after_leads
       ON CONFLICT (send_id) WHERE kind = 'unsubscribe' DO NOTHING
       RETURNING send_id
     ), r AS (
       UPDATE wizard_run w SET unsubscribe_count = w.unsubscribe_count + 1, updated_at = now()
         FROM s JOIN ev ON ev.send_id = s.id WHERE w.id = s.run_id
       RETURNING w.id
     )
     SELECT (SELECT count(*) FROM s)::int AS found, (SELECT count(*) FROM ev)::int AS first, (SELECT count(*) FROM r) AS counted`,
    values: [token, visit.at.toISOString(), visit.ip, visit.userAgent, derived],
  });
  const r = res.rows[0];
  if (!r || r.found === 0) return null;
  return { first: r.first > 0 };
}

// ---------------------------------------------------------------------------
// Figures and lists of a run

export interface RunTrackingCounts {
  sent: number;
  delivered: number;
  errors: number;
  openers: number;
  humanOpeners: number;
  clickers: number;
  humanClickers: number;
  clicks: number;
  humanClicks: number;
  unsubscribes: number;
  suspectedClicks: number;
}

export async function runTrackingCounts(db: Queryable, runId: number): Promise<RunTrackingCounts> {
  const res = await db.query<RunTrackingCounts>(
    `WITH s AS (
       SELECT id, result FROM send WHERE run_id = $1
     ), e AS (
       SELECT e.send_id, e.kind, e.suspected_bot FROM tracking_event e JOIN s ON s.id = e.send_id
     )
     SELECT (SELECT count(*) FROM s WHERE result IN ('delivered', 'sent', 'error'))::int AS sent,
            (SELECT count(*) FROM s WHERE result = 'delivered')::int AS delivered,
            (SELECT count(*) FROM s WHERE result = 'error')::int AS errors,
            count(DISTINCT send_id) FILTER (WHERE kind = 'open')::int AS openers,
            count(DISTINCT send_id) FILTER (WHERE kind = 'open' AND NOT suspected_bot)::int AS "humanOpeners",
            count(DISTINCT send_id) FILTER (WHERE kind = 'click')::int AS clickers,
            count(DISTINCT send_id) FILTER (WHERE kind = 'click' AND NOT suspected_bot)::int AS "humanClickers",
            count(*) FILTER (WHERE kind = 'click')::int AS clicks,
            count(*) FILTER (WHERE kind = 'click' AND NOT suspected_bot)::int AS "humanClicks",
            count(*) FILTER (WHERE kind = 'click' AND suspected_bot)::int AS "suspectedClicks",
            count(DISTINCT send_id) FILTER (WHERE kind = 'unsubscribe')::int AS unsubscribes
       FROM e`,
    [runId],
  );
  return res.rows[0]!;
}

export interface LinkClickCounts {
  part: string;
  /** null for a per-part total. */
  url: string | null;
  clickers: number;
  clicks: number;
  humanClickers: number;
  humanClicks: number;
}

/**
 * Clicks per URL and body part (every tracked URL, clicked or not, in order
 * of first appearance), and per body part. A URL personalized per lead counts
 * as one URL per distinct address; at most `maxUrls` URLs are returned.
 */
export async function runLinkClickCounts(
  db: Queryable,
  runId: number,
  maxUrls: number,
): Promise<{ urls: LinkClickCounts[]; parts: LinkClickCounts[]; moreUrls: boolean }> {
  const res = await db.query<LinkClickCounts & { grouping: number }>(
    `SELECT l.part, l.url, GROUPING(l.url)::int AS grouping,
            count(DISTINCT e.send_id)::int AS clickers, count(e.id)::int AS clicks,
            count(DISTINCT e.send_id) FILTER (WHERE NOT e.suspected_bot)::int AS "humanClickers",
            count(e.id) FILTER (WHERE NOT e.suspected_bot)::int AS "humanClicks",
            min(l.id) AS first_id
       FROM send s
       JOIN tracked_link l ON l.send_id = s.id AND l.part NOT IN ${NOT_A_LINK}
       LEFT JOIN tracking_event e ON e.send_id = s.id AND e.link_id = l.id AND e.kind = 'click'
      WHERE s.run_id = $1
      GROUP BY GROUPING SETS ((l.part, l.url), (l.part))
      ORDER BY l.part, GROUPING(l.url) DESC, min(l.id)`,
    [runId],
  );
  const parts: LinkClickCounts[] = [];
  const urls: LinkClickCounts[] = [];
  for (const { grouping, ...row } of res.rows) {
    const counts: LinkClickCounts = {
      part: row.part,
      url: grouping ? null : row.url,
      clickers: row.clickers,
      clicks: row.clicks,
      humanClickers: row.humanClickers,
      humanClicks: row.humanClicks,
    };
    if (grouping) parts.push(counts);
    else urls.push(counts);
  }
  return { urls: urls.slice(0, maxUrls), parts, moreUrls: urls.length > maxUrls };
}

export interface ResponderRow {
  lead_id: number;
  send_id: string;
  name: string;
  address: string;
  first_at: Date;
  last_at: Date;
  events: number;
  human_events: number;
}

export interface ResponderPage {
  items: ResponderRow[];
  /** Leads counted in the figures (deleted and merged-away ones included); null when not asked for. */
  counted: number | null;
  /** Counted leads no longer listed: deleted, merged into another lead, or gone; null when not asked for. */
  leftLeads: number | null;
  nextCursor: number | null;
}

interface ListOpts {
  humanOnly: boolean;
  afterLeadId: number | null;
  limit: number;
  /** Count the whole list (counted, leftLeads): a pass over all of it, so only when asked. */
  counts: boolean;
}

const GONE = '(l.id IS NULL OR l.deleted_at IS NOT NULL OR l.merged_into_id IS NOT NULL)';

/**
 * Openers or clickers of a run as a list of live leads (SPEC §1: counts are
 * what happened; lists join live leads, and the difference is shown).
 *
 * A page walks the run's sends in lead-id order (send_run_lead_unique) from
 * the cursor, aggregates the events of each send it passes
 * (tracking_event_send_idx) and stops when the page is full; it never reads
 * the rest of the list. The counts are a separate pass, made only when asked.
 */
export async function runResponders(
  db: Queryable,
  runId: number,
  kind: 'open' | 'click',
  opts: ListOpts & {
    /** Clickers of this one tracked URL of this body part only (the per-URL count's list). */
    link?: { url: string; part: string };
  },
): Promise<ResponderPage> {
  // Sends without an event of the kind are passed over by their own columns first.
  const hasEvent = kind === 'open' ? 's.opened_at IS NOT NULL' : 's.click_count > 0';
  const events = `SELECT min(e.at) AS first_at, max(e.at) AS last_at, count(*)::int AS events,
                         count(*) FILTER (WHERE NOT e.suspected_bot)::int AS human_events
                    FROM tracking_event e
                   WHERE e.send_id = s.id AND e.kind = $2
                     AND ($4::text IS NULL OR e.link_id IN (
                           SELECT t.id FROM tracked_link t
                            WHERE t.send_id = s.id AND t.part = $5 AND md5(t.url) = md5($4) AND t.url = $4))`;
  const keep = 'ev.events > 0 AND (NOT $3 OR ev.human_events > 0)';
  const link = [opts.link?.url ?? null, opts.link?.part ?? null];
  const page = await db.query<ResponderRow>(
    `SELECT s.id AS send_id, s.lead_id, s.address, ev.first_at, ev.last_at, ev.events, ev.human_events,
            coalesce(l.name, '') AS name
       FROM send s
       JOIN lead l ON l.id = s.lead_id AND l.deleted_at IS NULL AND l.merged_into_id IS NULL
       CROSS JOIN LATERAL (${events}) ev
      WHERE s.run_id = $1 AND ${hasEvent} AND ($6::int IS NULL OR s.lead_id > $6) AND ${keep}
      ORDER BY s.lead_id LIMIT $7`,
    [runId, kind, opts.humanOnly, ...link, opts.afterLeadId, opts.limit + 1],
  );
  let counts: { counted: number; left_leads: number } | undefined;
  if (opts.counts) {
    const res = await db.query<{ counted: number; left_leads: number }>(
      `SELECT count(*)::int AS counted, count(*) FILTER (WHERE ${GONE})::int AS left_leads
         FROM send s
         CROSS JOIN LATERAL (${events}) ev
         LEFT JOIN lead l ON l.id = s.lead_id
        WHERE s.run_id = $1 AND ${hasEvent} AND ${keep}`,
      [runId, kind, opts.humanOnly, ...link],
    );
    counts = res.rows[0];
  }
  const items = page.rows.slice(0, opts.limit);
  const last = items[items.length - 1];
  return {
    items,
    counted: counts ? counts.counted : null,
    leftLeads: counts ? counts.left_leads : null,
    nextCursor: page.rows.length > opts.limit && last ? last.lead_id : null,
  };
}

export interface UnopenedRow {
  lead_id: number;
  send_id: string;
  name: string;
  address: string;
  delivered_at: Date | null;
}

/**
 * 未開封者: the run's delivered sends without an open (delivered − openers, as
 * the figures count them), as live leads by lead id. With humanOnly, a send
 * whose every open is marked as a machine one counts as unopened, matching
 * the figures without machines. A page stops when full (see runResponders);
 * the counts are a separate pass, made only when asked.
 */
export async function runUnopened(
  db: Queryable,
  runId: number,
  opts: ListOpts,
): Promise<{
  items: UnopenedRow[];
  counted: number | null;
  leftLeads: number | null;
  nextCursor: number | null;
}> {
  const unopened = `s.run_id = $1 AND s.result = 'delivered'
          -- opened_at is the first open of any kind: without machines, only a human open counts.
          AND (s.opened_at IS NULL
               OR $2 AND NOT EXISTS (SELECT 1 FROM tracking_event e
                                      WHERE e.send_id = s.id AND e.kind = 'open' AND NOT e.suspected_bot))`;
  const page = await db.query<UnopenedRow>(
    `SELECT s.id AS send_id, s.lead_id, s.address, s.delivered_at, coalesce(l.name, '') AS name
       FROM send s
       JOIN lead l ON l.id = s.lead_id AND l.deleted_at IS NULL AND l.merged_into_id IS NULL
      WHERE ${unopened} AND ($3::int IS NULL OR s.lead_id > $3)
      ORDER BY s.lead_id LIMIT $4`,
    [runId, opts.humanOnly, opts.afterLeadId, opts.limit + 1],
  );
  let counts: { counted: number; left_leads: number } | undefined;
  if (opts.counts) {
    const res = await db.query<{ counted: number; left_leads: number }>(
      `SELECT count(*)::int AS counted, count(*) FILTER (WHERE ${GONE})::int AS left_leads
         FROM send s LEFT JOIN lead l ON l.id = s.lead_id
        WHERE ${unopened}`,
      [runId, opts.humanOnly],
    );
    counts = res.rows[0];
  }
  const items = page.rows.slice(0, opts.limit);
  const last = items[items.length - 1];
  return {
    items,
    counted: counts ? counts.counted : null,
    leftLeads: counts ? counts.left_leads : null,
    nextCursor: page.rows.length > opts.limit && last ? last.lead_id : null,
  };
}

export interface AccessLogRow {
  id: string;
  kind: string;
  at: Date;
  send_id: string;
  run_id: number | null;
  channel: string;
  template_title: string;
  url: string | null;
  part: string | null;
  ip: string | null;
  user_agent: string | null;
  suspected_bot: boolean;
  bot_reasons: string[] | null;
}

/**
 * A lead's access log (ユーザアクセスログ): every click, open and unsubscribe of
 * its sends, newest first, keyset-paged by event id (ids grow with time of
 * recording). Sends are found by send_lead_idx, events by tracking_event_send_idx.
 */
export async function leadAccessLog(
  db: Queryable,
  leadId: number,
  opts: { kinds: readonly string[]; runId: number | null; beforeId: string | null; limit: number },
): Promise<{ items: AccessLogRow[]; nextCursor: string | null }> {
  const res = await db.query<AccessLogRow>(
    `SELECT e.id, e.kind, e.at, e.send_id, s.run_id, s.channel, s.template_title, l.url, l.part,
            e.ip, e.user_agent, e.suspected_bot, e.bot_reasons
       FROM send s
       JOIN tracking_event e ON e.send_id = s.id
       LEFT JOIN tracked_link l ON l.id = e.link_id
      WHERE s.lead_id = $1 AND e.kind = ANY($2::text[]) AND ($3::int IS NULL OR s.run_id = $3)
        AND ($4::bigint IS NULL OR e.id < $4)
      ORDER BY e.id DESC LIMIT $5`,
    [leadId, opts.kinds, opts.runId, opts.beforeId, opts.limit + 1],
  );
  const items = res.rows.slice(0, opts.limit);
  const last = items[items.length - 1];
  return { items, nextCursor: res.rows.length > opts.limit && last ? String(last.id) : null };
}
