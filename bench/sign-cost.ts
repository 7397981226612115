// What DKIM signing costs per message (issue 19): composes one bulk-shaped
// message (multipart, one-click unsubscribe headers) the way the worker does and
// signs it N times with mailauth (relaxed/relaxed) under RSA 2048, Ed25519 and
// both together, as channels/email/dkim.ts does per message. Prints figures; no
// assertion. `npx tsx bench/sign-cost.ts [N]` (default 100,000).
import { composeMessage } from '../channels/email/mime';
import { generateDkimKey, signWithKeys, type SigningKey } from '../channels/email/dkim';

async function main() {
  const n = Number(process.argv[2] ?? 100_000);
  const source = composeMessage({
    from: 'Shop <news@example.jp>',
    to: 'reader@example.net',
    subject: 'Our autumn news for you',
    text: 'Hello Aki,\n\n' + 'Here is what is new this month. '.repeat(40) + '\nhttps://example.jp/c/abc',
    html: '<p>Hello Aki,</p>' + '<p>Here is what is new this month.</p>'.repeat(40),
    messageId: '<tok123@bounce.example.jp>',
    headers: {
      'X-Send-Token': 'tok123',
      'List-Unsubscribe': '<https://example.jp/u/xyz>',
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    },
  });
  const rsa = await generateDkimKey('rsa');
  const ed = await generateDkimKey('ed25519');
  const key = (k: typeof rsa, selector: string): SigningKey => ({
    domain: 'example.jp',
    selector,
    algorithm: k.algorithm,
    privateKeyPem: k.privateKeyPem,
  });
  const cases: Array<[string, SigningKey[]]> = [
    ['ed25519', [key(ed, 'e')]],
    ['rsa-2048', [key(rsa, 'r')]],
    ['rsa-2048 + ed25519', [key(rsa, 'r'), key(ed, 'e')]],
  ];
  console.log(`message: ${source.length} bytes; ${n} signatures per case, one at a time (one core)`);
  for (const [name, keys] of cases) {
    for (let i = 0; i < 200; i++) await signWithKeys(source, keys); // warm-up
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await signWithKeys(source, keys);
    const ns = Number(process.hrtime.bigint() - t0);
    const us = ns / 1000 / n;
    console.log(`${name.padEnd(20)} ${us.toFixed(1)} µs/message  ${Math.round(1e6 / us)} messages/s`);
  }
}

void main();
