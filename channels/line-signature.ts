// LINE webhook signatures: x-line-signature = Base64(HMAC-SHA256(channel secret, raw request body)).
// The HMAC covers the exact bytes LINE sent, so verify before any JSON parsing or re-serialization.
import { createHmac, timingSafeEqual } from 'node:crypto';

export function signBody(channelSecret: string, rawBody: Buffer | string): string {
  return createHmac('sha256', channelSecret).update(rawBody).digest('base64');
}

/** Constant-time check of an x-line-signature header; false (never a throw) for a missing or malformed header. */
export function verifySignature(
  channelSecret: string,
  rawBody: Buffer | string,
  headerValue: string | readonly string[] | undefined,
): boolean {
  // A repeated header is not something LINE sends: refuse rather than pick one.
  if (typeof headerValue !== 'string' || headerValue.length === 0) return false;
  const expected = Buffer.from(signBody(channelSecret, rawBody), 'utf8');
  const given = Buffer.from(headerValue.trim(), 'utf8');
  // timingSafeEqual throws on unequal lengths; the length of a valid signature is public anyway (44 characters).
  if (given.length !== expected.length) return false;
  return timingSafeEqual(given, expected);
}
