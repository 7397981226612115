// The email transport alone, against Postfix's smtp-sink: N messages (about the product's size)
// sent with a bounded number in flight, then this process's CPU time and system calls per message.
// Exact counts (write and read system calls from /proc/self/io) say more than rates on a shared
// machine.
//
//   npx tsx bench/smtp-transport.ts [--messages 20000] [--in-flight 50] [--connections 5] [--no-pipelining]
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createEmailTransport, type EmailTransport } from '../channels/email/transport';
import { SmtpSinkProcess } from './sink';

interface Io {
  syscr: number;
  syscw: number;
}

function io(): Io {
  const text = readFileSync('/proc/self/io', 'utf8');
  const get = (k: string) => Number(new RegExp(`^${k}: (\\d+)`, 'm').exec(text)?.[1] ?? NaN);
  return { syscr: get('syscr'), syscw: get('syscw') };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}

export async function runTransportBench(
  make: (url: string, connections: number) => EmailTransport,
  opts: { messages: number; inFlight: number; connections: number; pipelining: boolean },
): Promise<string> {
  const sink = await SmtpSinkProcess.start({
    port: await freePort(),
    extraArgs: opts.pipelining ? [] : ['-p'],
  });
  const transport = make(sink.url, opts.connections);
  const body = 'Hello,\r\n\r\nthis is about the size of a product message. '.repeat(8);
  try {
    // Warm up (connections, JIT), then measure.
    await Promise.all(Array.from({ length: 200 }, (_, i) => send(transport, `warm${i}`, body)));
    const io0 = io();
    const cpu0 = process.cpuUsage();
    let next = 0;
    let failed = 0;
    const lane = async () => {
      while (next < opts.messages) {
        const i = next++;
        if ((await send(transport, `m${i}`, body)) !== 'sent') failed++;
      }
    };
    await Promise.all(Array.from({ length: opts.inFlight }, lane));
    const cpu = process.cpuUsage(cpu0);
    const io1 = io();
    const per = (n: number) => (n / opts.messages).toFixed(2);
    return (
      `${opts.messages} messages (${failed} failed), ${opts.inFlight} in flight, ${opts.connections} connections, ` +
      `server ${opts.pipelining ? 'with' : 'without'} PIPELINING: ` +
      `CPU-s per 1,000 ${(((cpu.user + cpu.system) / 1e6 / opts.messages) * 1000).toFixed(3)} ` +
      `(user ${((cpu.user / 1e6 / opts.messages) * 1000).toFixed(3)}, system ${((cpu.system / 1e6 / opts.messages) * 1000).toFixed(3)}); ` +
      `write syscalls per message ${per(io1.syscw - io0.syscw)}, read syscalls per message ${per(io1.syscr - io0.syscr)}`
    );
  } finally {
    transport.close();
    await sink.stop();
  }
}

async function send(transport: EmailTransport, id: string, text: string): Promise<string> {
  const res = await transport.send({
    from: 'Shop <news@example.test>',
    to: `${id}@receiver.test`,
    subject: 'Bench',
    text,
    envelopeFrom: `b+${id}@bounce.example.test`,
    messageId: `<${id}.${process.pid}@bounce.example.test>`,
  });
  return res.outcome.result;
}

if (require.main === module) {
  const opts = {
    messages: arg('messages', 20_000),
    inFlight: arg('in-flight', 50),
    connections: arg('connections', 5),
    pipelining: !process.argv.includes('--no-pipelining'),
  };
  runTransportBench(
    (url, connections) => createEmailTransport({ url, maxConnections: connections, maxMessages: 1000 }),
    opts,
  )
    .then((line) => console.log(line))
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
