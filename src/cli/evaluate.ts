import type { Command } from './command.js';

// Placeholder until issue #4 lands; replaced by the real command.
export const command: Command = {
  name: 'evaluate',
  summary: '',
  usage: 'usage: sbp evaluate (not built yet: issue #4)',
  async run() {
    console.error('sbp evaluate: not built yet (issue #4)');
    return 1;
  },
};
