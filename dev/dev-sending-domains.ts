// `npm start` sends at once (issue 19): the development From domains are
// registered, their records served by the local DNS server (dev/dns-server.ts)
// and verified through it, as a user would do with a real zone.
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { sendingDomainRepository } from '../db/repositories/sending-domains';
import { recordsToPublish } from '../domain/sender-auth';
import { encryptPrivateKey, generateDkimKey, newSelector } from '../channels/email/dkim';
import { verifySendingDomain } from '../channels/email/sender-auth-dns';
import type { AppConfig } from '../config/config';
import type { LocalDnsServer } from './dns-server';

/** The development-only key encrypting DKIM keys under `npm start` when DKIM_KEY_SECRET is unset. */
export const DEV_DKIM_KEY_SECRET = 'development only: set DKIM_KEY_SECRET anywhere else';

export async function setUpDevSendingDomains(
  pool: Pool,
  config: AppConfig,
  dns: LocalDnsServer,
  domains: readonly string[],
  logger: Logger,
): Promise<void> {
  const repo = sendingDomainRepository(pool);
  const settings = {
    bounceDomain: config.bounceDomain,
    spfRelay: config.spfRelay,
    bounceMx: config.bounceDomain,
  };
  for (const domain of domains) {
    let row = await repo.byDomain(domain);
    if (!row) {
      const key = await generateDkimKey('rsa');
      row = await repo.insert(domain, [
        {
          selector: newSelector('rsa'),
          algorithm: 'rsa',
          publicKey: key.publicKey,
          privateKeyEnc: encryptPrivateKey(key.privateKeyPem, config.dkimKeySecret),
        },
      ]);
    }
    if (!row) continue;
    const keys = (await repo.keysOf([row.id])).map((k) => ({
      selector: k.selector,
      algorithm: k.algorithm,
      publicKey: k.public_key,
      state: k.state,
    }));
    const byName = new Map<string, { type: 'TXT' | 'MX'; values: string[] }>();
    for (const r of recordsToPublish(domain, keys, settings)) {
      const key = `${r.type} ${r.name}`;
      const entry = byName.get(key) ?? { type: r.type, values: [] };
      entry.values.push(r.value);
      byName.set(key, entry);
    }
    for (const [key, { type, values }] of byName) dns.set(key.slice(type.length + 1), type, values);
    const verified = await verifySendingDomain(pool, row.id, {
      ...settings,
      dnsResolver: config.dnsResolver,
    });
    logger.info({ domain, status: verified?.status }, 'development sending domain');
  }
}
