// Real MTAs from Debian's packages for test/e2e/real-mta-bounces.test.ts:
// Exim 4, OpenSMTPD and dma unpacked into .tools/mta/<name>/ by
// scripts/setup-mtas.sh, and a private instance of the installed Postfix
// (scripts/setup-postfix.sh). Each is started here with a configuration file
// of its own in a temporary directory, listens on loopback only, and routes
//   receiver.test     -> the next hop (a dev/smtp-sink scripted to refuse)
//   unreachable.test  -> a loopback port nobody listens on
//   the bounce domain -> the product's bounce listener
// so that its own bounces come back to the product. They all need root
// (Exim and Postfix run their deliveries as their own users, OpenSMTPD
// chroots, dma's configuration path is compiled in and is replaced in a
// private mount namespace).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { connect, createServer } from 'node:net';
import { join, resolve } from 'node:path';
import nodemailer from 'nodemailer';
import type { SmtpSink } from '../../dev/smtp-sink';
import { waitFor } from './harness';

/** How the next hop refuses, one per case the suite covers. */
export type Scenario = 'unknown-user' | 'mailbox-full' | 'mailbox-full-452' | 'policy' | 'unreachable';

export interface MtaRoutes {
  /** Where the MTA listens for the product's mail. */
  port: number;
  /** The next hop for receiver.test (dev/smtp-sink, scripted to refuse). */
  sink: SmtpSink;
  sinkPort: number;
  /** The product's bounce listener and the domain of its VERP return paths. */
  bounceDomain: string;
  bouncePort: number;
  /** Where unreachable.test goes: nothing listens there. */
  deadPort: number;
}

export interface RunningMta {
  /**
   * For an MTA without an SMTP listener (dma): hand it one message as a local
   * program would (`sendmail -f FROM TO...`).
   */
  submit?(from: string, to: string[], raw: Buffer): Promise<void>;
  /** The MTA's own log, for a failing test's message. */
  log(): string;
  stop(): Promise<void>;
}

export interface RealMta {
  name: 'exim' | 'opensmtpd' | 'dma' | 'postfix';
  label: string;
  /** null where it can run here; otherwise why not. */
  unavailable(): string | null;
  /** Whether the product sends to it over SMTP (else through submit()). */
  listens: boolean;
  /** Cases this MTA does not turn into a bounce within seconds, with why. */
  skipped: Partial<Record<Scenario, string>>;
  start(dir: string, routes: MtaRoutes): Promise<RunningMta>;
}

const TOOLS = resolve(__dirname, '../../.tools/mta');
/** OpenSMTPD's queue, compiled into Debian's binary (it creates it when missing). */
const SMTPD_SPOOL = '/var/spool/smtpd';

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

function uidOf(user: string): number | null {
  const r = spawnSync('id', ['-u', user], { encoding: 'utf8' });
  return r.status === 0 ? Number(r.stdout.trim()) : null;
}

function commandExists(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/** A loopback port free at the time of asking. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const addr = server.address();
  await new Promise<void>((ok) => server.close(() => ok()));
  if (typeof addr !== 'object' || !addr) throw new Error('no port');
  return addr.port;
}

async function waitForPort(what: string, port: number, child?: ChildProcess): Promise<void> {
  await waitFor(`${what} listening on ${port}`, async () => {
    if (child && child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    return new Promise<boolean>((ok) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.end();
        ok(true);
      }).once('error', () => ok(false));
    });
  });
}

/** A child process whose output is kept for the log. */
function startLogged(
  cmd: string,
  args: string[],
  env?: NodeJS.ProcessEnv,
): { child: ChildProcess; out: () => string } {
  let out = '';
  const child = spawn(cmd, args, { env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  return { child, out: () => out };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  child.kill('SIGTERM');
  await exited;
}

function readIfThere(path: string): string {
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}

// Exim 4: a daemon with -C (its own configuration), re-executing itself
// through the wrapper setup-mtas.sh writes. An empty retry rule makes
// temporary errors final, so a 4xx or an unreachable host bounces at once
// ("retry timeout exceeded").
const exim: RealMta = {
  name: 'exim',
  label: 'Exim 4 (exim4-daemon-light)',
  listens: true,
  skipped: {},
  unavailable() {
    if (!isRoot()) return 'needs root';
    if (!existsSync(join(TOOLS, 'exim/exim4-run')))
      return 'not in .tools/mta/exim (run scripts/setup-mtas.sh)';
    if (uidOf('Debian-exim') === null) return 'no Debian-exim user (run scripts/setup-mtas.sh)';
    return null;
  },
  async start(dir, r) {
    const uid = uidOf('Debian-exim')!;
    chmodSync(dir, 0o755);
    for (const sub of ['spool', 'log']) {
      mkdirSync(join(dir, sub));
      chownSync(join(dir, sub), uid, uid);
    }
    const conf = join(dir, 'exim.conf');
    const smtp = (port: number) =>
      `  driver = smtp\n  port = ${port}\n  hosts_avoid_tls = *\n  allow_localhost\n`;
    const route = (domain: string, transport: string) =>
      `  driver = manualroute\n  domains = ${domain}\n  route_list = * 127.0.0.1\n  self = send\n  transport = ${transport}\n`;
    writeFileSync(
      conf,
      [
        `exim_path = ${join(TOOLS, 'exim/exim4-run')}`,
        'exim_user = Debian-exim',
        'exim_group = Debian-exim',
        'primary_hostname = mta.exim.test',
        'qualify_domain = mta.exim.test',
        `daemon_smtp_ports = ${r.port}`,
        'local_interfaces = 127.0.0.1',
        `spool_directory = ${dir}/spool`,
        `log_file_path = ${dir}/log/%slog`,
        `pid_file_path = ${dir}/exim.pid`,
        'host_lookup =',
        'rfc1413_hosts =',
        'tls_advertise_hosts =',
        'acl_smtp_rcpt = acl_rcpt',
        '',
        'begin acl',
        'acl_rcpt:',
        '  accept',
        '',
        'begin routers',
        'bounces:',
        route(r.bounceDomain, 'to_bounces'),
        'sink:',
        route('receiver.test', 'to_sink'),
        'dead:',
        route('unreachable.test', 'to_dead'),
        'begin transports',
        'to_bounces:',
        smtp(r.bouncePort),
        'to_sink:',
        smtp(r.sinkPort),
        'to_dead:',
        smtp(r.deadPort),
        'begin retry',
        '* *',
        '',
      ].join('\n'),
    );
    // Exim refuses a configuration file others can write.
    chmodSync(conf, 0o644);
    const { child, out } = startLogged(join(TOOLS, 'exim/exim4-run'), ['-C', conf, '-bdf', '-q2s']);
    await waitForPort('Exim', r.port, child);
    return {
      log: () => out() + readIfThere(join(dir, 'log/mainlog')) + readIfThere(join(dir, 'log/paniclog')),
      stop: () => stopChild(child),
    };
  },
};

// OpenSMTPD 6.8: `smtpd -d -f FILE` in the foreground. Its queue
// (/var/spool/smtpd), chroot and control socket are compiled in, so only one
// runs on the machine at a time, and not beside a system OpenSMTPD; its queue
// is emptied before and after.
const opensmtpd: RealMta = {
  name: 'opensmtpd',
  label: 'OpenSMTPD 6.8 (opensmtpd)',
  listens: true,
  skipped: {
    'mailbox-full-452':
      "keeps a 4xx recipient queued until `queue ttl`, then sends a delay notice (Action: delayed, Status 4.4.7, 'Envelope expired'), not a bounce",
    unreachable:
      'retries a refused connection for about six minutes before giving up (and meanwhile holds every route to that address)',
  },
  unavailable() {
    if (!isRoot()) return 'needs root';
    if (!existsSync(join(TOOLS, 'opensmtpd/usr/sbin/smtpd')))
      return 'not in .tools/mta/opensmtpd (run scripts/setup-mtas.sh)';
    if (uidOf('opensmtpd') === null || uidOf('opensmtpq') === null)
      return 'no opensmtpd/opensmtpq users (run scripts/setup-mtas.sh)';
    // Its queue is compiled in: the test empties it, which is only safe where it is ours alone.
    if (existsSync('/usr/sbin/smtpd')) return `shares its queue (${SMTPD_SPOOL}) with the system's OpenSMTPD`;
    if (existsSync('/var/run/smtpd.sock') && spawnSync('pgrep', ['-x', 'smtpd']).status === 0)
      return 'another OpenSMTPD is running on this machine';
    return null;
  },
  async start(dir, r) {
    chmodSync(dir, 0o755);
    const conf = join(dir, 'smtpd.conf');
    writeFileSync(
      conf,
      [
        `listen on 127.0.0.1 port ${r.port} hostname mta.opensmtpd.test`,
        `action "sink" relay host smtp://127.0.0.1:${r.sinkPort}`,
        `action "bounces" relay host smtp://127.0.0.1:${r.bouncePort}`,
        'match from any for domain "receiver.test" action "sink"',
        `match from any for domain "${r.bounceDomain}" action "bounces"`,
        `match from local for domain "${r.bounceDomain}" action "bounces"`,
        '',
      ].join('\n'),
    );
    chmodSync(conf, 0o644);
    // What an earlier run left queued would be retried against ports long closed.
    rmSync(SMTPD_SPOOL, { recursive: true, force: true });
    const smtpd = join(TOOLS, 'opensmtpd/usr/sbin/smtpd');
    const { child, out } = startLogged(smtpd, ['-d', '-f', conf]);
    await waitForPort('OpenSMTPD', r.port, child);
    return {
      log: out,
      async stop() {
        await stopChild(child);
        rmSync(SMTPD_SPOOL, { recursive: true, force: true });
      },
    };
  },
};

// dma (DragonFly Mail Agent) has no SMTP listener: a local program hands it
// a message (`dma -f FROM TO`), it relays everything to its SMARTHOST (here
// the next hop) and sends its bounces there too; the next hop passes mail for
// the bounce domain on to the product's bounce listener. Its configuration
// path (/etc/dma/dma.conf) is compiled in: each call bind-mounts the test's
// own directory over /etc/dma in a private mount namespace.
const dma: RealMta = {
  name: 'dma',
  label: 'dma 0.13 (DragonFly Mail Agent)',
  listens: false,
  skipped: {
    'mailbox-full-452': 'retries a temporary failure itself, for days, before it bounces',
    unreachable: 'relays everything through one smarthost and retries a refused connection for days',
  },
  unavailable() {
    if (!isRoot()) return 'needs root';
    if (!existsSync(join(TOOLS, 'dma/usr/sbin/dma')))
      return 'not in .tools/mta/dma (run scripts/setup-mtas.sh)';
    if (!existsSync('/etc/dma'))
      return 'no /etc/dma to mount its configuration on (run scripts/setup-mtas.sh)';
    if (!commandExists('unshare')) return 'no unshare';
    return null;
  },
  async start(dir, r) {
    // dma gives up root: its spool must be open to it.
    chmodSync(dir, 0o755);
    mkdirSync(join(dir, 'etc'));
    mkdirSync(join(dir, 'spool'));
    chmodSync(join(dir, 'spool'), 0o1777);
    writeFileSync(
      join(dir, 'etc/dma.conf'),
      `SMARTHOST 127.0.0.1\nPORT ${r.sinkPort}\nSPOOLDIR ${dir}/spool\nMAILNAME mta.dma.test\n`,
    );
    const bin = join(TOOLS, 'dma/usr/sbin/dma');
    let out = '';
    const mailbox = nodemailer.createTransport({
      host: '127.0.0.1',
      port: r.bouncePort,
      secure: false,
      ignoreTLS: true,
    });
    const suffix = `@${r.bounceDomain}`.toLowerCase();
    const forwarding = new Set<Promise<unknown>>();
    const unsubscribe = r.sink.onMessage((mail) => {
      if (!mail.to.every((to) => to.toLowerCase().endsWith(suffix))) return;
      const p = mailbox
        .sendMail({ envelope: { from: mail.from, to: mail.to }, raw: mail.raw })
        .catch((err: Error) => (out += `forwarding dma's bounce: ${err.message}\n`))
        .finally(() => forwarding.delete(p));
      forwarding.add(p);
    });
    return {
      async submit(from, to, raw) {
        const script = 'mount --bind "$1" /etc/dma && shift && exec "$@"';
        const child = spawn(
          'unshare',
          ['-m', 'sh', '-c', script, 'sh', join(dir, 'etc'), bin, '-i', '-f', from, '--', ...to],
          {
            stdio: ['pipe', 'pipe', 'pipe'],
          },
        );
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (out += d.toString()));
        const code = await new Promise<number | null>((ok) => {
          child.once('exit', ok);
          child.stdin.end(raw);
        });
        if (code !== 0) {
          out += `dma exited with ${code}\n`;
          throw new Error(`dma exited with ${code}: ${out}`);
        }
      },
      log: () => out,
      async stop() {
        unsubscribe();
        await Promise.allSettled([...forwarding]);
        mailbox.close();
      },
    };
  },
};

// Postfix: a private instance of the installed Postfix (`postfix -c DIR`),
// with its own queue and a listener on a high port, so it neither needs nor
// disturbs the system instance test/e2e/postfix-bounces.test.ts configures.
// Short queue lifetimes make a 4xx or an unreachable host bounce in seconds.
const postfix: RealMta = {
  name: 'postfix',
  label: 'Postfix (private instance)',
  listens: true,
  skipped: {},
  unavailable() {
    if (!isRoot()) return 'needs root';
    if (!commandExists('postfix') || !existsSync('/etc/postfix/master.cf'))
      return 'not installed (run scripts/setup-postfix.sh)';
    return null;
  },
  async start(dir, r) {
    chmodSync(dir, 0o755);
    const conf = join(dir, 'conf');
    mkdirSync(conf);
    mkdirSync(join(dir, 'queue'));
    mkdirSync(join(dir, 'data'));
    chownSync(join(dir, 'data'), uidOf('postfix')!, -1);
    const mainCf = existsSync('/etc/postfix/main.cf')
      ? '/etc/postfix/main.cf'
      : '/usr/share/postfix/main.cf.debian';
    copyFileSync(mainCf, join(conf, 'main.cf'));
    // Only our own listener: the system's port 25 service line is replaced.
    const master = readFileSync('/etc/postfix/master.cf', 'utf8').replace(
      /^smtp\s+inet\s.*$/m,
      `127.0.0.1:${r.port} inet n - n - - smtpd`,
    );
    writeFileSync(join(conf, 'master.cf'), master);
    const settings = [
      `queue_directory = ${dir}/queue`,
      `data_directory = ${dir}/data`,
      `maillog_file = ${dir}/maillog`,
      `maillog_file_prefixes = ${dir}`,
      'compatibility_level = 3.6',
      'inet_interfaces = 127.0.0.1',
      'inet_protocols = ipv4',
      'myhostname = mta.postfix.test',
      'mydestination =',
      'mynetworks = 127.0.0.0/8',
      'relay_domains = receiver.test, unreachable.test',
      `transport_maps = inline:{ receiver.test=smtp:[127.0.0.1]:${r.sinkPort}, unreachable.test=smtp:[127.0.0.1]:${r.deadPort}, ${r.bounceDomain}=smtp:[127.0.0.1]:${r.bouncePort} }`,
      'smtp_tls_security_level = none',
      'smtpd_tls_security_level = none',
      'maximal_queue_lifetime = 5s',
      'bounce_queue_lifetime = 5s',
      'queue_run_delay = 1s',
      'minimal_backoff_time = 1s',
      'maximal_backoff_time = 2s',
      'smtp_connect_timeout = 2s',
    ];
    const postconf = spawnSync('postconf', ['-c', conf, '-e', ...settings], { encoding: 'utf8' });
    if (postconf.status !== 0) throw new Error(`postconf: ${postconf.stderr}`);
    const started = spawnSync('postfix', ['-c', conf, 'start'], { encoding: 'utf8' });
    if (started.status !== 0)
      throw new Error(`postfix start: ${started.stderr}${readIfThere(join(dir, 'maillog'))}`);
    await waitForPort('Postfix', r.port);
    return {
      log: () => readIfThere(join(dir, 'maillog')),
      async stop() {
        spawnSync('postfix', ['-c', conf, 'stop']);
      },
    };
  },
};

export const REAL_MTAS: readonly RealMta[] = [exim, opensmtpd, dma, postfix];
