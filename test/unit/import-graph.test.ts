// The layer rule between top-level folders (BRIEF, ARCHITECTURE), checked by
// scripts/import-graph.ts: on this tree, and on small trees that break it.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { importGraph } from '../../scripts/import-graph';

const repo = resolve(__dirname, '../..');
const script = join(repo, 'scripts/import-graph.ts');
const tsx = join(repo, 'node_modules/.bin/tsx');

function runScript(...args: string[]) {
  const r = spawnSync(tsx, [script, ...args], { encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

const trees: string[] = [];
afterAll(() => {
  for (const t of trees) rmSync(t, { recursive: true, force: true });
});

/** A tree of files (path -> content) in a fresh directory. */
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'import-graph-'));
  trees.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

const kinds = (root: string) => importGraph(root).violations.map((v) => v.kind);

test('this tree: no upward import, no cycle between top-level folders (the script exits 0)', () => {
  const r = runScript();
  expect(r.out).toContain('no upward import, no cycle');
  expect(r.status).toBe(0);
});

test('the script exits non-zero and names the file when an import runs upward', () => {
  const root = tree({
    'domain/rule.ts': "import { app } from '../api/app';\nexport const rule = app;\n",
    'api/app.ts': 'export const app = 1;\n',
  });
  const r = runScript('--root', root);
  expect(r.out).toContain("[upward] domain/rule.ts:1 imports '../api/app'");
  expect(r.status).toBe(1);
});

test('downward imports, tools importing anything, and type-only activities in workflows are allowed', () => {
  const root = tree({
    'domain/a.ts': 'export const a = 1;\n',
    'db/q.ts': "import { a } from '../domain/a';\nexport * from '../domain/a';\nexport const q = a;\n",
    'api/r.ts': "import { q } from '../db/q';\nexport const r = import('../inbound/x').then(() => q);\n",
    'inbound/x.ts': "const q = require('../db/q');\nexport default q;\n",
    'activities/acts.ts': 'export interface Acts { send(): void }\n',
    'workflows/w.ts':
      "import type { Acts } from '../activities/acts';\nimport { type Acts as A2 } from '../activities/acts';\n" +
      "import { a } from '../domain/a';\nexport const w = (x: Acts, y: A2) => [x, y, a];\n",
    'dev/tool.ts': "import '../api/r';\n",
    'test/t.test.ts': "import '../api/r';\n",
  });
  const g = importGraph(root);
  expect(g.violations).toEqual([]);
  expect(g.value.get('db')?.get('domain')).toBe(2);
  expect(g.value.get('api')?.get('inbound')).toBe(1);
  expect(g.value.get('inbound')?.get('db')).toBe(1);
  expect(g.typeOnly.get('workflows')?.get('activities')).toBe(2);
  expect(g.value.has('dev')).toBe(false);
});

test('an upward type-only import is a violation outside workflows -> activities', () => {
  const root = tree({
    'db/q.ts': "import type { R } from '../api/r';\nexport type Q = R;\n",
    'api/r.ts': 'export type R = number;\n',
  });
  expect(kinds(root)).toEqual(['upward']);
});

test('workflows import only domain/ and activity types', () => {
  const root = tree({
    'workflows/w.ts':
      "import { acts } from '../activities/acts';\nimport { c } from '../config/c';\nexport const w = [acts, c];\n",
    'activities/acts.ts': 'export const acts = 1;\n',
    'config/c.ts': 'export const c = 1;\n',
  });
  expect(kinds(root)).toEqual(['workflows', 'workflows']);
});

test('a layered folder importing a tool or a folder outside the order is a violation', () => {
  const root = tree({
    'api/r.ts':
      "import { sim } from '../dev/sim';\nimport { x } from '../misc/x';\nexport const r = [sim, x];\n",
    'dev/sim.ts': 'export const sim = 1;\n',
    'misc/x.ts': 'export const x = 1;\n',
  });
  const g = importGraph(root);
  expect(g.violations.map((v) => v.kind)).toEqual(['outside-layers', 'outside-layers']);
  expect(g.violations[0]!.message).toContain('dev is a tool folder');
});

test('value imports that go round between folders are reported as a cycle', () => {
  const root = tree({
    'db/q.ts': "import { r } from '../api/r';\nexport const q = r;\n",
    'api/r.ts': "import { q } from '../db/q';\nexport const r = () => q;\n",
  });
  const g = importGraph(root);
  expect(g.violations.filter((v) => v.kind === 'cycle').map((v) => v.message)).toEqual([
    'value imports form a cycle among db, api',
  ]);
});
