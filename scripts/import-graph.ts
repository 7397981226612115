// The import graph between the top-level folders, checked against the layer
// order (BRIEF / ARCHITECTURE): a file may import only from its own folder or
// from folders below it,
//
//   domain < config < observability < db < channels < workflows < lifecycle
//          < inbound < activities < worker < api
//
// with one upward edge allowed: workflows/ may `import type` from activities/.
// workflows/ is deterministic Temporal code and stricter still: of our
// folders it imports only domain/ (and activity types).
// dev/, test/, bench/ and scripts/ are tools: they may import anything and are
// left out of the graph; no layered folder may import them.
//
// Prints the graph (value imports, then `import type` ones separately) and
// exits 1 when an import runs upward, leaves the layers, or the value edges
// between folders form a cycle.
//
//   npx tsx scripts/import-graph.ts            the graph and any violation
//   npx tsx scripts/import-graph.ts --dot      the graph in Graphviz DOT
//   npx tsx scripts/import-graph.ts --root DIR another tree (the unit test's)
//
// An import counts as type-only when the syntax says so (`import type`,
// `export type`, or every named binding marked `type`). An import whose names
// are only used as types but not marked is counted as a value import.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve, dirname, sep } from 'node:path';
import ts from 'typescript';

export const LAYERS = [
  'domain',
  'config',
  'observability',
  'db',
  'channels',
  'workflows',
  'lifecycle',
  'inbound',
  'activities',
  'worker',
  'api',
] as const;

export const TOOLS = ['dev', 'test', 'bench', 'scripts'] as const;

/** The one upward edge allowed, and only for type-only imports. */
const TYPE_ONLY_UPWARD: ReadonlyArray<readonly [string, string]> = [['workflows', 'activities']];

const UNWALKED_TOP_LEVEL = new Set(['node_modules', 'dist', 'coverage', ...TOOLS]);
const SOURCE = /\.(ts|tsx|mts|cts|js|mjs|cjs)$/;

export interface ImportSite {
  /** The importing file, relative to the root. */
  file: string;
  line: number;
  specifier: string;
  from: string;
  to: string;
  typeOnly: boolean;
}

export interface Violation {
  kind: 'upward' | 'outside-layers' | 'workflows' | 'cycle';
  message: string;
}

export interface ImportGraph {
  /** Every relative import that crosses from a layered folder into another top-level folder. */
  sites: ImportSite[];
  /** from -> to -> number of import statements, value imports only. */
  value: Map<string, Map<string, number>>;
  /** The same for type-only imports. */
  typeOnly: Map<string, Map<string, number>>;
  violations: Violation[];
}

const rank = (folder: string): number => (LAYERS as readonly string[]).indexOf(folder);

function sourceFiles(root: string, dir = root): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      // Tools import anything: not walked. Hidden folders (.git, .tools, .data) hold no code of ours.
      if (!(dir === root && UNWALKED_TOP_LEVEL.has(entry.name)) && !entry.name.startsWith('.'))
        out.push(...sourceFiles(root, join(dir, entry.name)));
    } else if (entry.isFile() && SOURCE.test(entry.name)) out.push(join(dir, entry.name));
  }
  return out;
}

/** True when the bindings of an import or export declaration are all type-only. */
function isTypeOnly(node: ts.ImportDeclaration | ts.ExportDeclaration): boolean {
  if (ts.isImportDeclaration(node)) {
    const clause = node.importClause;
    if (!clause) return false; // import './x': a side effect
    if (clause.isTypeOnly) return true;
    if (clause.name) return false;
    const bindings = clause.namedBindings;
    if (!bindings || ts.isNamespaceImport(bindings)) return false;
    return bindings.elements.length > 0 && bindings.elements.every((e) => e.isTypeOnly);
  }
  if (node.isTypeOnly) return true;
  const clause = node.exportClause;
  if (!clause || !ts.isNamedExports(clause)) return false;
  return clause.elements.length > 0 && clause.elements.every((e) => e.isTypeOnly);
}

/** The module specifiers of one file, with whether each is type-only. */
function importsOf(text: string, fileName: string): { specifier: string; line: number; typeOnly: boolean }[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false);
  const found: { specifier: string; line: number; typeOnly: boolean }[] = [];
  const add = (literal: ts.Expression, typeOnly: boolean) => {
    if (!ts.isStringLiteralLike(literal)) return;
    const line = source.getLineAndCharacterOfPosition(literal.getStart(source)).line + 1;
    found.push({ specifier: literal.text, line, typeOnly });
  };
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier)
      add(node.moduleSpecifier, isTypeOnly(node));
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference))
      add(node.moduleReference.expression, node.isTypeOnly);
    else if (ts.isCallExpression(node) && node.arguments.length === 1) {
      const callee = node.expression;
      const isRequire = ts.isIdentifier(callee) && callee.text === 'require';
      const isResolve =
        ts.isPropertyAccessExpression(callee) &&
        ts.isIdentifier(callee.expression) &&
        callee.expression.text === 'require' &&
        callee.name.text === 'resolve';
      if (isRequire || isResolve || callee.kind === ts.SyntaxKind.ImportKeyword)
        add(node.arguments[0]!, false);
    } else if (ts.isImportTypeNode(node)) {
      // import('../x').T in a type position
      const arg = node.argument;
      if (ts.isLiteralTypeNode(arg)) add(arg.literal as ts.Expression, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function topFolder(root: string, path: string): string | null {
  const rel = relative(root, path);
  if (rel.startsWith('..')) return null;
  const parts = rel.split(sep);
  return parts.length > 1 ? parts[0]! : null;
}

function countEdge(map: Map<string, Map<string, number>>, from: string, to: string): void {
  const row = map.get(from) ?? new Map<string, number>();
  row.set(to, (row.get(to) ?? 0) + 1);
  map.set(from, row);
}

/** Cycles among the folders (strongly connected components of more than one folder). */
function cyclesOf(edges: Map<string, Map<string, number>>): string[][] {
  const nodes = [...new Set([...edges.keys(), ...[...edges.values()].flatMap((m) => [...m.keys()])])].sort();
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  let next = 0;
  const connect = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of [...(edges.get(v)?.keys() ?? [])].sort()) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) components.push(component.sort((a, b) => rank(a) - rank(b)));
    }
  };
  for (const v of nodes) if (!index.has(v)) connect(v);
  return components;
}

export function importGraph(rootDir: string): ImportGraph {
  const root = resolve(rootDir);
  const sites: ImportSite[] = [];
  for (const file of sourceFiles(root)) {
    const from = topFolder(root, file);
    if (from === null) continue;
    for (const imp of importsOf(readFileSync(file, 'utf8'), file)) {
      // Packages are not folders of ours; only relative specifiers cross folders.
      if (!imp.specifier.startsWith('./') && !imp.specifier.startsWith('../')) continue;
      const target = resolve(dirname(file), imp.specifier);
      const to = topFolder(root, target) ?? relative(root, target);
      if (to === from) continue;
      sites.push({ file: relative(root, file), from, to, ...imp });
    }
  }
  const value = new Map<string, Map<string, number>>();
  const typeOnly = new Map<string, Map<string, number>>();
  const violations: Violation[] = [];
  for (const s of sites) {
    countEdge(s.typeOnly ? typeOnly : value, s.from, s.to);
    const where = `${s.file}:${s.line} imports '${s.specifier}'`;
    if (rank(s.from) < 0) {
      violations.push({ kind: 'outside-layers', message: `${where}: ${s.from}/ is not in the layer order` });
    } else if (rank(s.to) < 0) {
      violations.push({
        kind: 'outside-layers',
        message: `${where}: ${s.to} is ${(TOOLS as readonly string[]).includes(s.to) ? 'a tool folder' : 'not in the layer order'}`,
      });
    } else if (s.from === 'workflows' && s.to !== 'domain' && !(s.typeOnly && s.to === 'activities')) {
      violations.push({
        kind: 'workflows',
        message: `${where}: workflows/ imports only domain/ and activity types, not ${s.to}/`,
      });
    } else if (rank(s.to) > rank(s.from)) {
      const allowed = s.typeOnly && TYPE_ONLY_UPWARD.some(([a, b]) => a === s.from && b === s.to);
      if (!allowed)
        violations.push({
          kind: 'upward',
          message: `${where}: ${s.from} -> ${s.to} runs upward${s.typeOnly ? ' (type-only)' : ''}`,
        });
    }
  }
  for (const cycle of cyclesOf(value))
    violations.push({ kind: 'cycle', message: `value imports form a cycle among ${cycle.join(', ')}` });
  return { sites, value, typeOnly, violations };
}

const orderOf = (a: string, b: string) => {
  const ra = rank(a) < 0 ? LAYERS.length : rank(a);
  const rb = rank(b) < 0 ? LAYERS.length : rank(b);
  return ra - rb || a.localeCompare(b);
};

function formatEdges(edges: Map<string, Map<string, number>>): string[] {
  return [...edges.keys()].sort(orderOf).map((from) => {
    const targets = [...edges.get(from)!.entries()].sort(([a], [b]) => orderOf(a, b));
    return `  ${from.padEnd(14)}-> ${targets.map(([to, n]) => `${to} (${n})`).join(', ')}`;
  });
}

export function formatText(graph: ImportGraph): string {
  const lines = [
    `Layers, bottom to top: ${LAYERS.join(' < ')}`,
    'Imports between top-level folders (import statements), tools (dev, test, bench, scripts) left out:',
    '',
    'value imports',
    ...formatEdges(graph.value),
    '',
    'type-only imports',
    ...formatEdges(graph.typeOnly),
    '',
  ];
  if (graph.violations.length === 0)
    lines.push('no upward import, no cycle; workflows/ imports only domain/ and activity types');
  else
    lines.push(
      `${graph.violations.length} violation(s):`,
      ...graph.violations.map((v) => `  [${v.kind}] ${v.message}`),
    );
  return lines.join('\n');
}

export function formatDot(graph: ImportGraph): string {
  const lines = ['digraph imports {', '  rankdir=BT;', '  node [shape=box];'];
  for (const [edges, style] of [
    [graph.value, ''],
    [graph.typeOnly, ' style=dashed'],
  ] as const)
    for (const [from, row] of edges)
      for (const [to, n] of row) {
        const bad =
          rank(to) > rank(from) ||
          rank(from) < 0 ||
          rank(to) < 0 ||
          (from === 'workflows' && to !== 'domain' && to !== 'activities');
        const allowed = style !== '' && TYPE_ONLY_UPWARD.some(([a, b]) => a === from && b === to);
        lines.push(`  "${from}" -> "${to}" [label=${n}${style}${bad && !allowed ? ' color=red' : ''}];`);
      }
  lines.push('}');
  return lines.join('\n');
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--root');
  const root = at >= 0 ? args[at + 1] : resolve(__dirname, '..');
  if (!root) {
    console.error('usage: import-graph [--dot] [--root DIR]');
    process.exit(2);
  }
  const graph = importGraph(root);
  console.log(args.includes('--dot') ? formatDot(graph) : formatText(graph));
  if (graph.violations.length > 0) {
    if (args.includes('--dot')) for (const v of graph.violations) console.error(`[${v.kind}] ${v.message}`);
    process.exit(1);
  }
}
