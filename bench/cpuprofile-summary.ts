// Summarise a V8 .cpuprofile (node --cpu-prof; `npm run bench -- --worker-cpu-prof DIR`):
// self time by function and by file (the top N), as shares of the sampled time.
//
//   npx tsx bench/cpuprofile-summary.ts FILE.cpuprofile [N]
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

function main() {
  const [file, nArg] = process.argv.slice(2);
  if (!file) throw new Error('usage: cpuprofile-summary FILE.cpuprofile [N]');
  const top = Number(nArg ?? 25);
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  p.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const idle = [...selfUs]
    .filter(([id]) => ['(idle)', '(program)'].includes(byId.get(id)!.callFrame.functionName))
    .reduce((a, [, us]) => a + us, 0);
  const short = (url: string) =>
    url
      .replace(/^file:\/\//, '')
      .replace(/.*\/node_modules\//, 'nm:')
      .replace(/.*\/(perf|main)\//, '');
  const fn = new Map<string, number>();
  const files = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const cf = byId.get(id)!.callFrame;
    const key = `${cf.functionName || '(anon)'} ${short(cf.url)}:${cf.lineNumber + 1}`;
    fn.set(key, (fn.get(key) ?? 0) + us);
    const f = short(cf.url) || cf.functionName;
    const pkg = f.startsWith('nm:')
      ? f
          .split('/')
          .slice(0, f.startsWith('nm:@') ? 2 : 1)
          .join('/')
      : f;
    files.set(pkg, (files.get(pkg) ?? 0) + us);
  }
  const print = (title: string, m: Map<string, number>) => {
    console.log(`\n${title}`);
    for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top))
      console.log(
        `${((us / total) * 100).toFixed(1).padStart(5)} %  ${(us / 1e6).toFixed(2).padStart(6)} s  ${k}`,
      );
  };
  console.log(
    `${file}: ${(total / 1e6).toFixed(1)} s sampled, ${(((total - idle) / total) * 100).toFixed(0)} % busy`,
  );
  print('self time by function', fn);
  print('self time by file or package', files);
}

main();
