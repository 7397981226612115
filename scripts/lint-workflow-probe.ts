// Lints probe texts as if they were files in workflows/, with the project's
// own ESLint configuration, and prints, as one JSON line, the messages of the
// import rule per probe, and the same for every file of workflows/ itself.
// Input on stdin: a JSON array of texts. Used by test/unit/workflow-lint.test.ts
// in its own Node process (Jest cannot load the ESM configuration file).
import { join } from 'node:path';
import { ESLint } from 'eslint';

const root = join(__dirname, '..');
const PROBE = 'workflows/probe.ts';

async function main() {
  const input = await new Promise<string>((resolve) => {
    let text = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (chunk) => (text += chunk));
    process.stdin.on('end', () => resolve(text));
  });
  const probes = input.trim() ? (JSON.parse(input) as string[]) : [];
  const eslint = new ESLint({
    cwd: root,
    // The probe exists only as text: the project service types it in its default project.
    overrideConfig: [
      {
        files: [PROBE],
        languageOptions: { parserOptions: { projectService: { allowDefaultProject: [PROBE] } } },
      },
    ],
  });
  const summary = (r: ESLint.LintResult) => ({
    file: r.filePath.slice(root.length + 1),
    fatal: r.messages.filter((m) => m.fatal).map((m) => m.message),
    imports: r.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message),
  });
  const linted = [];
  for (const text of probes)
    linted.push(summary((await eslint.lintText(text, { filePath: join(root, PROBE) }))[0]!));
  const tree = (await eslint.lintFiles([join(root, 'workflows')])).map(summary);
  console.log(JSON.stringify({ probes: linted, tree }));
}

main().catch((err) => {
  console.error(err);
  process.exit(2);
});
