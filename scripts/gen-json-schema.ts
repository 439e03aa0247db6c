// Writes docs/protocol.schema.json from the zod schemas; `--check` exits 1 when the committed file has drifted.
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { protocolJsonSchema } from '../src/protocol/json-schema.js';

const target = resolve(import.meta.dirname, '../docs/protocol.schema.json');
const text = `${JSON.stringify(protocolJsonSchema(), null, 2)}\n`;
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    // missing counts as drift
  }
  if (current !== text) {
    console.error('docs/protocol.schema.json is out of date: run `npm run gen` and commit it');
    process.exit(1);
  }
  console.log('docs/protocol.schema.json is up to date');
} else {
  writeFileSync(target, text);
  console.log(`wrote ${target}`);
}
