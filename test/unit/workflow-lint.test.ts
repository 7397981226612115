// The workflow import allowlist (eslint.config.mjs) is real: probe texts
// placed in workflows/ are linted with the project's own ESLint configuration
// (scripts/lint-workflow-probe.ts, in its own Node process: Jest cannot load
// the ESM configuration file), and only @temporalio/workflow, domain/, the
// folder itself and activity types get through.
import { execFile } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

interface Linted {
  file: string;
  fatal: string[];
  imports: string[];
}

const use = (names: string[]) => `\nexport const used = [${names.join(', ')}];\n`;

const PROBES = {
  upward:
    [
      "import { loadConfig } from '../config/config';",
      "import * as metrics from '../observability/metrics';",
      "import * as inbound from '../inbound/process-report';",
    ].join('\n') + use(['loadConfig', 'metrics', 'inbound']),
  io:
    [
      "import { readFileSync } from 'node:fs';",
      "import { Pool } from 'pg';",
      "import { Client } from '@temporalio/client';",
      "import { defineSearchAttributeKey } from '@temporalio/common';",
      "import { getRun } from '../db/run-queries';",
      "import { sleep } from '@temporalio/workflow/lib/workflow';",
    ].join('\n') + use(['readFileSync', 'Pool', 'Client', 'defineSearchAttributeKey', 'getRun', 'sleep']),
  activityValue:
    "import { createActivities } from '../activities/wizard-run-activities';" + use(['createActivities']),
  activityType:
    "import type { WizardRunActivities } from '../activities/wizard-run-activities';\nexport type A = WizardRunActivities;\n",
  allowed:
    [
      "import { sleep } from '@temporalio/workflow';",
      "import { isFinal } from '../domain/run-lifecycle';",
      "import { WIZARD_STATUS } from './search-attributes';",
    ].join('\n') + use(['sleep', 'isFinal', 'WIZARD_STATUS']),
};

let linted: { probes: Record<keyof typeof PROBES, string[]>; tree: Linted[] };

beforeAll(async () => {
  const names = Object.keys(PROBES) as Array<keyof typeof PROBES>;
  const out = await new Promise<{ probes: Linted[]; tree: Linted[] }>((resolve, reject) => {
    const child = execFile(
      process.execPath,
      ['--require', 'tsx/cjs', join(root, 'scripts', 'lint-workflow-probe.ts')],
      { cwd: root, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout)),
    );
    child.stdin!.end(JSON.stringify(names.map((n) => PROBES[n])));
  });
  const probes = {} as Record<keyof typeof PROBES, string[]>;
  names.forEach((n, i) => {
    const r = out.probes[i]!;
    if (r.fatal.length > 0) throw new Error(`probe ${n} did not parse: ${r.fatal.join('; ')}`);
    probes[n] = r.imports;
  });
  linted = { probes, tree: out.tree };
}, 300_000);

test('when a workflow file imports config, metrics and the inbound pipeline, then each import fails lint', () => {
  expect(linted.probes.upward).toEqual(Array(3).fill(expect.stringMatching(/workflows\/ may import only/)));
});

test('when a workflow file imports Node built-ins, I/O packages, other Temporal packages or the database, then each fails lint', () => {
  expect(linted.probes.io).toHaveLength(6);
});

test('when a workflow file imports an activity module by value, then it fails lint; by type it passes', () => {
  expect(linted.probes.activityValue).toEqual([expect.stringMatching(/activity types only/)]);
  expect(linted.probes.activityType).toEqual([]);
});

test('when a workflow file imports @temporalio/workflow, domain/ and its own folder, then lint passes', () => {
  expect(linted.probes.allowed).toEqual([]);
});

test('every file in workflows/ passes the allowlist today', () => {
  expect(linted.tree.map((r) => r.file)).toContain('workflows/wizard-run.ts');
  expect(linted.tree.flatMap((r) => r.imports.map((m) => `${r.file}: ${m}`))).toEqual([]);
});
