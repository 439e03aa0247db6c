import type { Command } from './command.js';

// Placeholder until issue #7 lands; replaced by the real command.
export const command: Command = {
  name: 'simulate',
  summary: '',
  usage: 'usage: sbp simulate (not built yet: issue #7)',
  async run() {
    console.error('sbp simulate: not built yet (issue #7)');
    return 1;
  },
};
