import type { Command } from './command.js';

// Placeholder until issue #2 lands; replaced by the real command.
export const command: Command = {
  name: 'hub',
  summary: '',
  usage: 'usage: sbp hub (not built yet: issue #2)',
  async run() {
    console.error('sbp hub: not built yet (issue #2)');
    return 1;
  },
};
