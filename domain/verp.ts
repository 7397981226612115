// VERP return paths (`MAIL FROM:<b+TOKEN@bounce.domain>`): the most reliable way
// to tie an asynchronous bounce back to one send, because the receiving side
// returns the report to this exact address whatever it does to the body.

import { extractAddress } from './report-fields';

/** Tokens are base64url or hex of 16+ bytes, generated elsewhere. */
export const VERP_TOKEN = /^[A-Za-z0-9_-]{16,64}$/;

const LOCAL_PREFIX = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/;
const DOMAIN = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$/;
// RFC 5321 §4.5.3.1.1: servers may refuse a longer local part.
const MAX_LOCAL_PART = 64;

function normalizeDomain(domain: string): string {
  return domain.trim().replace(/^@/, '').replace(/\.+$/, '').toLowerCase();
}

/**
 * Builds `prefix+TOKEN@bounce.domain`. Throws on a malformed token, prefix or
 * domain, or when the local part would pass 64 characters (prefix `b` leaves
 * room for 62: a 32-byte token fits as base64url, not as hex). These are
 * programming or configuration errors, not data to tolerate.
 */
export function verpAddress(token: string, bounceDomain: string, localPrefix = 'b'): string {
  if (!VERP_TOKEN.test(token)) throw new RangeError('VERP token must match [A-Za-z0-9_-]{16,64}');
  if (!LOCAL_PREFIX.test(localPrefix)) throw new RangeError(`invalid VERP local prefix: ${localPrefix}`);
  const domain = normalizeDomain(bounceDomain);
  if (!DOMAIN.test(domain)) throw new RangeError(`invalid bounce domain: ${bounceDomain}`);
  const local = `${localPrefix}+${token}`;
  if (local.length > MAX_LOCAL_PART) {
    throw new RangeError(`VERP local part is ${local.length} characters; SMTP allows ${MAX_LOCAL_PART}`);
  }
  return `${local}@${domain}`;
}

/**
 * Reads the token back from a return path or report field, e.g.
 * `<B+Tok@Bounce.Example.JP>` or `rfc822; b+Tok@bounce.example.jp`. The prefix
 * and domain compare case-insensitively; the token keeps its case (base64url is
 * case-sensitive). When bounceDomain is given, other domains give null.
 * SRS-rewritten addresses (`SRS0=…`) are not unwrapped and give null.
 */
export function verpToken(address: string, bounceDomain?: string, localPrefix = 'b'): string | null {
  const parsed = extractAddress(address);
  if (parsed === null) return null;
  const at = parsed.lastIndexOf('@');
  let local = parsed.slice(0, at);
  const domain = parsed.slice(at + 1);
  if (bounceDomain !== undefined && domain !== normalizeDomain(bounceDomain)) return null;
  if (local.length >= 2 && local.startsWith('"') && local.endsWith('"')) local = local.slice(1, -1);
  const prefix = `${localPrefix.toLowerCase()}+`;
  if (!local.toLowerCase().startsWith(prefix)) return null;
  const token = local.slice(prefix.length);
  return VERP_TOKEN.test(token) ? token : null;
}
