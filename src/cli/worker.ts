import type { Command } from './command.js';

// Placeholder until issue #3 lands; replaced by the real command.
export const command: Command = {
  name: 'worker',
  summary: '',
  usage: 'usage: sbp worker (not built yet: issue #3)',
  async run() {
    console.error('sbp worker: not built yet (issue #3)');
    return 1;
  },
};
