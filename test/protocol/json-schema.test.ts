import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { protocolJsonSchema } from '../../src/protocol/json-schema.js';

describe('generated JSON Schema', () => {
  it('docs/protocol.schema.json matches the zod schemas (run `npm run gen` after changing them)', () => {
    const committed = readFileSync(resolve(import.meta.dirname, '../../docs/protocol.schema.json'), 'utf8');
    expect(committed).toBe(`${JSON.stringify(protocolJsonSchema(), null, 2)}\n`);
  });
});
