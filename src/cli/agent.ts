import type { Command } from './command.js';

// Placeholder until issue #6 lands; replaced by the real command.
export const command: Command = {
  name: 'agent',
  summary: '',
  usage: 'usage: sbp agent (not built yet: issue #6)',
  async run() {
    console.error('sbp agent: not built yet (issue #6)');
    return 1;
  },
};
