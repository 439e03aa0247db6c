import type { Command } from './command.js';

// Placeholder until issue #3 lands; replaced by the real command.
export const command: Command = {
  name: 'demo',
  summary: '',
  usage: 'usage: sbp demo (not built yet: issue #3)',
  async run() {
    console.error('sbp demo: not built yet (issue #3)');
    return 1;
  },
};
