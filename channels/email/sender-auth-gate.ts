// Whether a single send may leave from its From domain (issue 19): the same
// rule as a run's pre-flight (domain/sender-auth.ts senderAuthBlock), read now.
import type { Pool } from 'pg';
import { fromDomainOf, senderAuthBlock, type SenderAuthBlock } from '../../domain/sender-auth';
import { sendingDomainState } from '../../db/repositories/sending-domains';

export async function singleSendBlock(
  pool: Pool,
  from: string | null,
  allowUnauthenticated: boolean,
): Promise<SenderAuthBlock | null> {
  if (allowUnauthenticated) return null;
  const domain = fromDomainOf(from);
  return senderAuthBlock(domain, domain ? await sendingDomainState(pool, domain) : null, false);
}
