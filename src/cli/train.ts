import type { Command } from './command.js';

// Placeholder until issue #4 lands; replaced by the real command.
export const command: Command = {
  name: 'train',
  summary: '',
  usage: 'usage: sbp train (not built yet: issue #4)',
  async run() {
    console.error('sbp train: not built yet (issue #4)');
    return 1;
  },
};
