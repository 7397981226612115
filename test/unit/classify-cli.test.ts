// `npm run classify` reads bounce files without a database and prints one JSON
// line per file with the decision and its evidence (issue 16).
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = join(__dirname, '..', '..');

test('when given a DSN and a non-report, then it prints a decision with evidence per file, without a database', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'classify-'));
  const junk = join(dir, 'junk.eml');
  await writeFile(junk, 'not a bounce at all');
  const env = { ...process.env, DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' };
  const { stdout } = await run(
    join(root, 'node_modules', '.bin', 'tsx'),
    [
      join(root, 'scripts', 'classify.ts'),
      join(root, 'test', 'fixtures', 'classify', 'sender-domain-5.1.8.eml'),
      junk,
    ],
    { cwd: root, env },
  );
  const lines = stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  expect(lines).toHaveLength(2);
  expect(lines[0]).toMatchObject({
    kind: 'dsn',
    recipients: [
      {
        recipient: 'a@b.example',
        decision: { reason: 'refused', fault: 'ours', countsAgainstRecipient: false, code: 42530 },
        evidence: expect.arrayContaining(['rule `sender-address` on Diagnostic-Code']),
      },
    ],
  });
  expect(lines[1]).toMatchObject({ file: junk, kind: 'unparseable', recipients: [{ decision: null }] });
}, 60_000);
