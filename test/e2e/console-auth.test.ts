// People, not keys (issue 20), through the real stack: console users log in and
// get an HTTP-only session cookie, every /v1 route takes that cookie with the
// scopes of the user's role, state changes made with it need the session's
// CSRF token, guessing is throttled, runs record the user's name, and the CLI
// makes the first admin. Requests go through node:http so that each test can
// speak from a loopback address of its own (127.x.y.z) and the per-address
// login throttle of one test never touches another.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { createConsoleUser, type ConsoleRole } from '../../db/console-user-queries';
import { startHarness, uniqueSuffix, waitFor, type Harness } from '../support/harness';

let h: Harness;
let port: number;
beforeAll(async () => {
  h = await startHarness();
  port = Number(new URL(h.baseUrl).port);
}, 120_000);
afterAll(async () => {
  await h?.stop();
});

interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

let nextAddress = 0;
/** A loopback address no other test uses (the login throttle counts per address). */
function freshAddress(): string {
  nextAddress += 1;
  return `127.${20 + (process.pid % 200)}.${Math.floor(nextAddress / 250)}.${(nextAddress % 250) + 1}`;
}

function call(
  method: string,
  path: string,
  opts: {
    body?: unknown;
    cookie?: string;
    csrf?: string;
    from?: string;
    headers?: Record<string, string>;
  } = {},
): Promise<Res> {
  const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  const headers: Record<string, string> = {
    ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
    ...(opts.cookie ? { cookie: opts.cookie } : {}),
    ...(opts.csrf ? { 'x-csrf-token': opts.csrf } : {}),
    ...opts.headers,
  };
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, method, path, headers, localAddress: opts.from ?? '127.0.0.1' },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            // not JSON: kept as text
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

interface Login {
  res: Res;
  /** `console_session=<token>`, as a browser sends it back. */
  cookie: string;
  token: string;
  csrf: string;
  setCookie: string;
}

async function login(username: string, password: string, from = freshAddress()): Promise<Login> {
  const res = await call('POST', '/v1/console/session', { body: { username, password }, from });
  const setCookie = ([] as string[])
    .concat(res.headers['set-cookie'] ?? [])
    .find((c) => c.startsWith('console_session='));
  const token = setCookie ? setCookie.slice('console_session='.length).split(';')[0]! : '';
  return {
    res,
    cookie: `console_session=${token}`,
    token,
    csrf: res.body?.csrfToken,
    setCookie: setCookie ?? '',
  };
}

async function user(role: ConsoleRole): Promise<{ name: string; password: string }> {
  const name = `${role}-${uniqueSuffix()}`;
  const password = `pw-${uniqueSuffix()}-${uniqueSuffix()}`;
  expect(await createConsoleUser(h.pool, name, role, password)).not.toBeNull();
  return { name, password };
}

async function loggedIn(role: ConsoleRole): Promise<Login & { name: string }> {
  const u = await user(role);
  const l = await login(u.name, u.password);
  expect(l.res.status).toBe(200);
  return { ...l, name: u.name };
}

async function emailRunBody(): Promise<Record<string, unknown>> {
  const lead = await h.api('POST', '/v1/leads', { name: 'Lead', email: `c.${uniqueSuffix()}@example.test` });
  const tpl = await h.api('POST', '/v1/templates', {
    channel: 'email',
    title: `T ${uniqueSuffix()}`,
    subject: 'Hi {{name}}',
    from: 'news@example.test',
    bodyText: 'Hello',
  });
  return { templateId: tpl.body.id, leadIds: [lead.body.id] };
}

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

describe('log in and out', () => {
  test('when a user logs in, then a secure HTTP-only cookie opens the API until logout deletes the session', async () => {
    const u = await user('operator');
    const l = await login(u.name, u.password);
    expect(l.res.status).toBe(200);
    expect(l.res.body).toMatchObject({
      user: { name: u.name, role: 'operator', scopes: ['read', 'write'] },
      csrfToken: expect.any(String),
    });
    const flags = l.setCookie.split(';').map((p) => p.trim().toLowerCase());
    expect(flags).toEqual(expect.arrayContaining(['httponly', 'secure', 'samesite=strict', 'path=/']));
    expect(l.token.length).toBeGreaterThanOrEqual(40);
    // The token is stored only as its SHA-256; the password only as an argon2id hash.
    const stored = await h.pool.query(
      `SELECT s.token_hash, u.password_hash FROM console_session s JOIN console_user u ON u.id = s.user_id
       WHERE u.name = $1`,
      [u.name],
    );
    expect(stored.rows).toHaveLength(1);
    expect(stored.rows[0].token_hash).toBe(sha256(l.token));
    expect(stored.rows[0].password_hash).toMatch(/^\$argon2id\$/);
    expect(JSON.stringify(stored.rows)).not.toContain(l.token);

    const again = await call('GET', '/v1/console/session', { cookie: l.cookie });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ user: { name: u.name, role: 'operator' }, csrfToken: l.csrf });
    expect((await call('GET', '/v1/leads?limit=1', { cookie: l.cookie })).status).toBe(200);

    // Logging out is a state change: without the CSRF token it is refused and the session lives on.
    const noToken = await call('DELETE', '/v1/console/session', { cookie: l.cookie });
    expect(noToken.status).toBe(403);
    expect(noToken.body.message).toContain('X-CSRF-Token');
    expect((await call('GET', '/v1/console/session', { cookie: l.cookie })).status).toBe(200);

    const out = await call('DELETE', '/v1/console/session', { cookie: l.cookie, csrf: l.csrf });
    expect(out.status).toBe(204);
    expect(String(out.headers['set-cookie'])).toMatch(
      /console_session=;.*(Max-Age=0|Expires=Thu, 01 Jan 1970)/,
    );
    const left = await h.pool.query('SELECT 1 FROM console_session WHERE token_hash = $1', [sha256(l.token)]);
    expect(left.rowCount).toBe(0);
    // The old cookie, replayed, opens nothing.
    expect((await call('GET', '/v1/console/session', { cookie: l.cookie })).status).toBe(401);
    const replay = await call('GET', '/v1/leads?limit=1', { cookie: l.cookie });
    expect(replay.status).toBe(401);
    expect(replay.body.message).toContain('log in again');
  });

  test('when the password is wrong or the user does not exist, then both get the same 401 and no cookie', async () => {
    const u = await user('viewer');
    const wrong = await login(u.name, `${u.password}x`);
    const unknown = await login(`nobody-${uniqueSuffix()}`, u.password);
    expect(wrong.res.status).toBe(401);
    expect(unknown.res.status).toBe(401);
    expect(unknown.res.body).toEqual(wrong.res.body);
    expect(wrong.res.body.message).toBe('the user name or the password is wrong');
    expect(wrong.setCookie).toBe('');
    expect(unknown.setCookie).toBe('');
    // Without a cookie, GET says to log in.
    const none = await call('GET', '/v1/console/session');
    expect(none.status).toBe(401);
    expect(none.body.message).toContain('POST /v1/console/session');
  });

  test('when the login body is not what it should be, then 400 names the field', async () => {
    const res = await call('POST', '/v1/console/session', { body: { username: 'a' }, from: freshAddress() });
    expect(res.status).toBe(400);
    expect(res.body.message).toContain('password');
  });
});

describe('login throttling', () => {
  test('when one user name fails five times, then even its right password gets 429 with Retry-After until the window passes', async () => {
    const u = await user('operator');
    // Each try from another address: only the user name's count is at work here.
    for (let i = 0; i < 5; i++) expect((await login(u.name, `wrong-${i}-password`)).res.status).toBe(401);
    const locked = await login(u.name, u.password);
    expect(locked.res.status).toBe(429);
    expect(locked.setCookie).toBe('');
    const retryAfter = Number(locked.res.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(15 * 60);
    // The name counts whatever its case.
    expect((await login(u.name.toUpperCase(), u.password)).res.status).toBe(429);
    // Fifteen minutes later (the failures moved back in time), the right password opens a session.
    await h.pool.query(
      `UPDATE console_login_failure SET at = at - interval '15 minutes' WHERE username = lower($1)`,
      [u.name],
    );
    expect((await login(u.name, u.password)).res.status).toBe(200);
  });

  test('when a user logs in successfully, then the failures before it no longer count', async () => {
    const u = await user('viewer');
    for (let i = 0; i < 4; i++) expect((await login(u.name, `wrong-${i}-password`)).res.status).toBe(401);
    expect((await login(u.name, u.password)).res.status).toBe(200);
    for (let i = 0; i < 4; i++) expect((await login(u.name, `again-${i}-password`)).res.status).toBe(401);
    // Eight failures in the window, but only four since the success.
    expect((await login(u.name, u.password)).res.status).toBe(200);
  });

  test('when one address fails five times with different names, then it is locked out, while another address is not', async () => {
    const u = await user('operator');
    const attacker = freshAddress();
    for (let i = 0; i < 5; i++)
      expect((await login(`guess-${i}-${uniqueSuffix()}`, 'whatever-password', attacker)).res.status).toBe(
        401,
      );
    const locked = await login(u.name, u.password, attacker);
    expect(locked.res.status).toBe(429);
    expect(Number(locked.res.headers['retry-after'])).toBeGreaterThan(0);
    expect((await login(u.name, u.password, freshAddress())).res.status).toBe(200);
  });
});

describe('CSRF', () => {
  test('when a lead is posted with the cookie, then it needs the right X-CSRF-Token; a request with an API key does not', async () => {
    const op = await loggedIn('operator');
    const name = `csrf-${uniqueSuffix()}`;
    const missing = await call('POST', '/v1/leads', { cookie: op.cookie, body: { name } });
    expect(missing.status).toBe(403);
    expect(missing.body.message).toContain('X-CSRF-Token header is missing');
    const other = await loggedIn('operator');
    const wrong = await call('POST', '/v1/leads', { cookie: op.cookie, csrf: other.csrf, body: { name } });
    expect(wrong.status).toBe(403);
    expect(wrong.body.message).toContain('X-CSRF-Token header is invalid');
    expect((await h.pool.query('SELECT 1 FROM lead WHERE name = $1', [name])).rowCount).toBe(0);

    const ok = await call('POST', '/v1/leads', { cookie: op.cookie, csrf: op.csrf, body: { name } });
    expect(ok.status).toBe(201);
    expect((await h.pool.query('SELECT 1 FROM lead WHERE name = $1', [name])).rowCount).toBe(1);

    const byKey = await h.api('POST', '/v1/leads', { name: `key-${uniqueSuffix()}` });
    expect(byKey.status).toBe(201);
  });
});

describe('roles', () => {
  test('when a viewer posts a run, then 403 and nothing is reserved; an operator reserves one and the run records its name', async () => {
    const viewer = await loggedIn('viewer');
    expect((await call('GET', '/v1/wizard-runs', { cookie: viewer.cookie })).status).toBe(200);
    const body = await emailRunBody();
    const refused = await call('POST', '/v1/wizard-runs', { cookie: viewer.cookie, csrf: viewer.csrf, body });
    expect(refused.status).toBe(403);
    expect(refused.body.message).toContain('"write" scope');
    const none = await h.pool.query('SELECT 1 FROM wizard_run WHERE template_id = $1', [body.templateId]);
    expect(none.rowCount).toBe(0);

    const op = await loggedIn('operator');
    const created = await call('POST', '/v1/wizard-runs', {
      cookie: op.cookie,
      csrf: op.csrf,
      body: { ...body, scheduledAt: new Date(Date.now() + 3600_000).toISOString() },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: 'reserved', createdBy: op.name, updatedBy: op.name });

    // Another operator cancels it: the run's 最終更新ユーザー is that one.
    const other = await loggedIn('operator');
    const cancelled = await call('DELETE', `/v1/wizard-runs/${created.body.id}`, {
      cookie: other.cookie,
      csrf: other.csrf,
    });
    expect(cancelled.status).toBe(202);
    const final = await waitFor('the run to be cancelled', async () => {
      const r = await h.api('GET', `/v1/wizard-runs/${created.body.id}`);
      return r.body.status === 'cancelled' ? r.body : null;
    });
    expect(final).toMatchObject({ createdBy: op.name, updatedBy: other.name, cancelledBy: other.name });
  });

  test('when an operator manages users or admin rules, then 403; an admin creates, changes and deletes a user', async () => {
    const op = await loggedIn('operator');
    expect((await call('GET', '/v1/console/users', { cookie: op.cookie })).status).toBe(403);
    const newName = `made-${uniqueSuffix()}`;
    const byOp = await call('POST', '/v1/console/users', {
      cookie: op.cookie,
      csrf: op.csrf,
      body: { name: newName, role: 'admin' },
    });
    expect(byOp.status).toBe(403);
    expect(byOp.body.message).toContain('"admin" scope');
    const domain = `roles-${uniqueSuffix()}.example`;
    const rule = await call('POST', '/v1/domain-rules', {
      cookie: op.cookie,
      csrf: op.csrf,
      body: { domain },
    });
    expect(rule.status).toBe(403);
    expect((await h.pool.query('SELECT 1 FROM console_user WHERE name = $1', [newName])).rowCount).toBe(0);

    const admin = await loggedIn('admin');
    expect(
      (await call('POST', '/v1/domain-rules', { cookie: admin.cookie, csrf: admin.csrf, body: { domain } }))
        .status,
    ).toBe(201);
    const made = await call('POST', '/v1/console/users', {
      cookie: admin.cookie,
      csrf: admin.csrf,
      body: { name: newName, role: 'operator' },
    });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ name: newName, role: 'operator', password: expect.any(String) });
    const listed = await call('GET', '/v1/console/users', { cookie: admin.cookie });
    expect(listed.status).toBe(200);
    expect(listed.body.items).toEqual(expect.arrayContaining([expect.objectContaining({ name: newName })]));
    expect(JSON.stringify(listed.body)).not.toContain(made.body.password);
    const dup = await call('POST', '/v1/console/users', {
      cookie: admin.cookie,
      csrf: admin.csrf,
      body: { name: newName.toUpperCase(), role: 'viewer' },
    });
    expect(dup.status).toBe(409);
    const bad = await call('POST', '/v1/console/users', {
      cookie: admin.cookie,
      csrf: admin.csrf,
      body: { name: 'x', role: 'root' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('role');

    // The new user logs in with the generated password; a new role counts from its next request.
    const newcomer = await login(newName, made.body.password);
    expect(newcomer.res.status).toBe(200);
    const lead = { name: `by-newcomer-${uniqueSuffix()}` };
    expect(
      (await call('POST', '/v1/leads', { cookie: newcomer.cookie, csrf: newcomer.csrf, body: lead })).status,
    ).toBe(201);
    const demoted = await call('PATCH', `/v1/console/users/${newName}`, {
      cookie: admin.cookie,
      csrf: admin.csrf,
      body: { role: 'viewer' },
    });
    expect(demoted.status).toBe(200);
    expect(demoted.body).toMatchObject({ name: newName, role: 'viewer', scopes: ['read'] });
    expect(
      (await call('POST', '/v1/leads', { cookie: newcomer.cookie, csrf: newcomer.csrf, body: lead })).status,
    ).toBe(403);
    // A new password ends the user's sessions.
    const newPassword = `new-${uniqueSuffix()}-${uniqueSuffix()}`;
    expect(
      (
        await call('PATCH', `/v1/console/users/${newName}`, {
          cookie: admin.cookie,
          csrf: admin.csrf,
          body: { password: newPassword },
        })
      ).status,
    ).toBe(200);
    expect((await call('GET', '/v1/console/session', { cookie: newcomer.cookie })).status).toBe(401);
    const relog = await login(newName, newPassword);
    expect(relog.res.status).toBe(200);
    expect(
      (
        await call('PATCH', `/v1/console/users/${newName}`, {
          cookie: admin.cookie,
          csrf: admin.csrf,
          body: {},
        })
      ).status,
    ).toBe(400);

    const deleted = await call('DELETE', `/v1/console/users/${newName}`, {
      cookie: admin.cookie,
      csrf: admin.csrf,
    });
    expect(deleted.status).toBe(204);
    expect((await call('GET', '/v1/leads?limit=1', { cookie: relog.cookie })).status).toBe(401);
    expect(
      (await call('DELETE', `/v1/console/users/${newName}`, { cookie: admin.cookie, csrf: admin.csrf }))
        .status,
    ).toBe(404);
  });
});

describe('console-user CLI', () => {
  const cli = (args: string[], input?: string) =>
    spawnSync('npm', ['run', '-s', 'console-user', '--', ...args], {
      env: { ...process.env, DATABASE_URL: process.env.TEST_DATABASE_URL_READY },
      encoding: 'utf8',
      input,
    });

  test('when the CLI creates an admin, then it logs in with the printed password and can manage users', async () => {
    const name = `first-admin-${uniqueSuffix()}`;
    const created = cli(['create', '--name', name, '--role', 'admin']);
    expect(created.status).toBe(0);
    const password = created.stdout.trim();
    expect(password.length).toBeGreaterThanOrEqual(20);
    const l = await login(name, password);
    expect(l.res.status).toBe(200);
    expect(l.res.body.user).toMatchObject({ name, role: 'admin' });
    expect((await call('GET', '/v1/console/users', { cookie: l.cookie })).status).toBe(200);

    const listed = cli(['list']);
    expect(listed.status).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`^${name}\\tadmin\\t`, 'm'));
    expect(listed.stdout).not.toContain(password);

    // reset-password from stdin ends the session; set-role and delete take effect on the next request.
    const chosen = `chosen-${uniqueSuffix()}-password`;
    expect(cli(['reset-password', '--name', name, '--password-stdin'], `${chosen}\n`).status).toBe(0);
    expect((await call('GET', '/v1/console/session', { cookie: l.cookie })).status).toBe(401);
    expect((await login(name, password)).res.status).toBe(401);
    const again = await login(name, chosen);
    expect(again.res.status).toBe(200);
    expect(cli(['set-role', '--name', name, '--role', 'viewer']).status).toBe(0);
    expect((await call('GET', '/v1/console/session', { cookie: again.cookie })).body.user.role).toBe(
      'viewer',
    );
    expect(cli(['delete', '--name', name]).status).toBe(0);
    expect((await call('GET', '/v1/console/session', { cookie: again.cookie })).status).toBe(401);

    expect(cli(['create', '--name', 'x', '--role', 'root']).status).toBe(2);
    expect(
      cli(['create', '--name', `short-${uniqueSuffix()}`, '--role', 'viewer', '--password-stdin'], 'short\n')
        .status,
    ).toBe(2);
  }, 120_000);
});
