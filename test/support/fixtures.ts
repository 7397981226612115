// Small fixtures several test files share.
import { randomBytes } from 'node:crypto';
import { uniqueSuffix, type Harness } from './harness';

export interface LineAccount {
  id: number;
  token: string;
  secret: string;
}

/** A LINE official account known to both the simulator and the API. */
export async function createLineAccount(
  h: Harness,
  opts: { monthlyQuota?: number | null } = {},
): Promise<LineAccount> {
  const token = `tok-${randomBytes(16).toString('hex')}`;
  const secret = randomBytes(16).toString('hex');
  h.line.addChannel({ accessToken: token, channelSecret: secret, monthlyQuota: opts.monthlyQuota });
  const res = await h.api('POST', '/v1/official-accounts', {
    name: `OA ${uniqueSuffix()}`,
    channelId: String(1_650_000_000 + Math.floor(Math.random() * 1e6)),
    accessToken: token,
    channelSecret: secret,
  });
  if (res.status !== 201) throw new Error(`creating an official account answered ${res.status}`);
  return { id: res.body.id, token, secret };
}

/** Method and path of every route Fastify registered, from its route tree (`printRoutes({ commonPrefix: false })`). */
export function registeredRoutes(tree: string): Array<{ method: string; path: string }> {
  const out: Array<{ method: string; path: string }> = [];
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^(.*?)[├└]── (.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = Math.round(m[1]!.length / 4);
    stack.length = depth;
    const full = (stack[depth - 1] ?? '') + m[2]!;
    stack[depth] = full;
    for (const method of (m[3] ?? '').split(', ').filter((x) => x && x !== 'HEAD'))
      out.push({ method, path: full });
  }
  return out;
}
