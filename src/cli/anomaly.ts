import type { Command } from './command.js';

// Placeholder until issue #5 lands; replaced by the real command.
export const command: Command = {
  name: 'anomaly',
  summary: '',
  usage: 'usage: sbp anomaly (not built yet: issue #5)',
  async run() {
    console.error('sbp anomaly: not built yet (issue #5)');
    return 1;
  },
};
