// A send's own token (VERP return path `b+TOKEN@bounce-domain`, Message-ID
// `<TOKEN@bounce-domain>`, X-Send-Token) is derived from the send's id (issue
// 17), the way the open and unsubscribe tokens are (db/tracking-queries.ts):
// one AES block of the id and the part 'send' under the tracking key, so it is
// as unguessable as a random token and verifiable without a stored copy. New
// sends store no token (send.token NULL: no unique-index entry per send);
// tokens stored before (32 hex digits, random) keep resolving.
//
// The derived token is written as 32 lowercase hex digits, the shape of the
// stored ones: a VERP local part may come back with its case changed by a
// relay, and hex reads back whatever the case.
import { derivedBlocks } from './tracking-queries';
import type { Queryable } from './pool';

const HEX_TOKEN = /^[0-9a-fA-F]{32}$/;

/** The token of a send: its stored one (a send made before), else the one derived from its id. */
export async function sendToken(
  db: Queryable,
  sendId: string,
  stored: string | null = null,
): Promise<string> {
  if (stored !== null) return stored;
  return (await derivedBlocks(db)).block(sendId, 'send').toString('hex');
}

/**
 * Rows that carry a send's stored token (or NULL), with every token filled in: what a reader
 * returns to the sender.
 */
export async function withSendTokens<T extends { token: string | null }>(
  db: Queryable,
  rows: T[],
  idOf: (row: T) => string,
): Promise<Array<T & { token: string }>> {
  if (rows.every((r) => r.token !== null)) return rows as Array<T & { token: string }>;
  const blocks = await derivedBlocks(db);
  for (const r of rows) if (r.token === null) r.token = blocks.block(idOf(r), 'send').toString('hex');
  return rows as Array<T & { token: string }>;
}

/** The send a derived send token names, or null (a stored token, or none of ours). */
export async function derivedSendOf(db: Queryable, token: string): Promise<string | null> {
  if (!HEX_TOKEN.test(token)) return null;
  return (await derivedBlocks(db)).sendOfBlock(Buffer.from(token, 'hex'), 'send');
}
