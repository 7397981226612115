// DKIM for every message we send (issue 19): key pairs for sending domains,
// their private keys encrypted at rest (AES-256-GCM, key DKIM_KEY_SECRET), and
// the signer the transport calls on each composed message. Canonicalization and
// the signature itself are mailauth's (relaxed/relaxed, rsa-sha256 and
// ed25519-sha256); this module only finds the keys of the From domain.
import { createCipheriv, createDecipheriv, createHash, generateKeyPair, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import type { Pool } from 'pg';
import { dkimSign } from 'mailauth/lib/dkim/sign';
import { fromDomainOf, type DkimAlgorithm } from '../../domain/sender-auth';
import { activeSigningKeys } from '../../db/repositories/sending-domains';

const generateKeyPairAsync = promisify(generateKeyPair);

/** The 32-byte AES key: DKIM_KEY_SECRET as 64 hex digits, or any other text hashed with SHA-256. */
export function keyEncryptionKey(secret: string): Buffer {
  if (!secret) throw new Error('DKIM_KEY_SECRET is not set: sending domain keys cannot be stored or read');
  return /^[0-9a-f]{64}$/i.test(secret)
    ? Buffer.from(secret, 'hex')
    : createHash('sha256').update(secret).digest();
}

/** `v1.` + base64(iv ‖ tag ‖ ciphertext). */
export function encryptPrivateKey(pem: string, secret: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyEncryptionKey(secret), iv);
  const body = Buffer.concat([cipher.update(pem, 'utf8'), cipher.final()]);
  return `v1.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
}

export function decryptPrivateKey(stored: string, secret: string): string {
  if (!stored.startsWith('v1.')) throw new Error('unknown private key encoding');
  const raw = Buffer.from(stored.slice(3), 'base64');
  const decipher = createDecipheriv('aes-256-gcm', keyEncryptionKey(secret), raw.subarray(0, 12));
  decipher.setAuthTag(raw.subarray(12, 28));
  return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
}

export interface GeneratedKey {
  algorithm: DkimAlgorithm;
  /** The DNS record's p= value. */
  publicKey: string;
  privateKeyPem: string;
}

/** A fresh key pair: RSA 2048 (what every receiver verifies) or Ed25519 (RFC 8463, alongside). */
export async function generateDkimKey(algorithm: DkimAlgorithm): Promise<GeneratedKey> {
  const pair =
    algorithm === 'rsa'
      ? await generateKeyPairAsync('rsa', { modulusLength: 2048 })
      : await generateKeyPairAsync('ed25519');
  const privateKeyPem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const spki = pair.publicKey.export({ type: 'spki', format: 'der' });
  // RSA publishes the SubjectPublicKeyInfo; Ed25519 the bare 32-byte key (its SPKI's last 32 bytes).
  const publicKey = (algorithm === 'rsa' ? spki : spki.subarray(spki.length - 32)).toString('base64');
  return { algorithm, publicKey, privateKeyPem };
}

/** A new selector: date and a random part, so a rotation on the same day gets another name. */
export function newSelector(algorithm: DkimAlgorithm, now = new Date()): string {
  const day = now.toISOString().slice(0, 10).replace(/-/g, '');
  return `s${day}${algorithm === 'rsa' ? 'r' : 'e'}${randomBytes(2).toString('hex')}`;
}

export interface SigningKey {
  domain: string;
  selector: string;
  algorithm: DkimAlgorithm;
  privateKeyPem: string;
}

export interface MessageSigner {
  /** The message with its DKIM-Signature header(s) in front; unchanged when the From domain has no key. */
  sign(source: Buffer, from: string): Promise<Buffer>;
}

/** Headers signed (and over-signed once, so none can be added after signing without breaking it). */
const SIGNED_HEADERS = [
  'from', 'to', 'reply-to', 'subject', 'date', 'message-id', 'mime-version', 'content-type',
  'content-transfer-encoding', 'list-unsubscribe', 'list-unsubscribe-post', 'x-send-token',
]; // prettier-ignore

/** Sign one composed message with the given keys (one signature per key, one pass over the body). */
export async function signWithKeys(
  source: Buffer,
  keys: readonly SigningKey[],
  signTime?: Date,
): Promise<Buffer> {
  if (keys.length === 0) return source;
  const res = await dkimSign(source, {
    canonicalization: 'relaxed/relaxed',
    signTime,
    headerList: SIGNED_HEADERS,
    signatureData: keys.map((k) => ({
      signingDomain: k.domain,
      selector: k.selector,
      privateKey: k.privateKeyPem,
      algorithm: k.algorithm === 'rsa' ? 'rsa-sha256' : 'ed25519-sha256',
    })),
  } as never);
  if (res.errors?.length) {
    // Never the key: only which signature failed and why.
    const e = res.errors[0] as { selector?: string; signingDomain?: string; err?: Error };
    throw new Error(`DKIM signing failed for ${e.signingDomain}/${e.selector}: ${e.err?.message ?? 'error'}`);
  }
  return Buffer.concat([Buffer.from(res.signatures, 'latin1'), source]);
}

/**
 * The signer the worker's transport uses: the active keys of the From domain, decrypted once and
 * kept for `cacheMs` (a batch, a run's stretch of batches), so a key rotated or a domain
 * registered shows up within that time without a database read per message.
 */
export function createDkimSigner(pool: Pool, secret: string, cacheMs = 60_000): MessageSigner {
  const cache = new Map<string, { at: number; keys: Promise<SigningKey[]> }>();
  const keysOf = (domain: string): Promise<SigningKey[]> => {
    const hit = cache.get(domain);
    if (hit && Date.now() - hit.at < cacheMs) return hit.keys;
    const keys = activeSigningKeys(pool, domain).then((rows) =>
      rows.map((r) => ({
        domain,
        selector: r.selector,
        algorithm: r.algorithm,
        privateKeyPem: decryptPrivateKey(r.private_key_enc, secret),
      })),
    );
    cache.set(domain, { at: Date.now(), keys });
    // A failed read is not kept: the next message asks again.
    keys.catch(() => cache.delete(domain));
    return keys;
  };
  return {
    async sign(source, from) {
      const domain = fromDomainOf(from);
      if (!domain || !secret) return source;
      return signWithKeys(source, await keysOf(domain));
    },
  };
}
