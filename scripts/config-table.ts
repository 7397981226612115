// Prints the README's configuration table from config/config.ts (the test in
// test/unit/readme-config.test.ts fails when the README drifts from it).
import { CONFIG_KEYS } from '../config/config';

console.log('| variable | default | meaning |');
console.log('|---|---|---|');
// A setting every channel has is one row, its pattern (TASK_QUEUE_<CHANNEL>).
const rows = new Map(CONFIG_KEYS.map((k) => [k.family?.env ?? k.env, k.family ?? k]));
for (const k of rows.values())
  console.log(`| \`${k.env}\` | ${k.default === '' ? '(empty)' : `\`${k.default}\``} | ${k.doc} |`);
