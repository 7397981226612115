// Prints the README's configuration table from config/config.ts (the test in
// test/unit/readme-config.test.ts fails when the README drifts from it).
import { CONFIG_KEYS } from '../config/config';

console.log('| variable | default | meaning |');
console.log('|---|---|---|');
for (const k of CONFIG_KEYS)
  console.log(`| \`${k.env}\` | ${k.default === '' ? '(empty)' : `\`${k.default}\``} | ${k.doc} |`);
