#!/usr/bin/env -S node --max-semi-space-size=32
// Runs the TypeScript sources directly (tsx), so `npx sbp` works right after `npm install` with no build step.
// The node flags above are SBP_NODE_FLAGS (src/cli/node-flags.ts: a larger young generation, and why).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
const code = await main(process.argv.slice(2));
if (typeof code === 'number') process.exitCode = code;
