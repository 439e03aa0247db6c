import type { Command } from './command.js';

// Placeholder until issue #7 lands; replaced by the real command.
export const command: Command = {
  name: 'replay',
  summary: '',
  usage: 'usage: sbp replay (not built yet: issue #7)',
  async run() {
    console.error('sbp replay: not built yet (issue #7)');
    return 1;
  },
};
