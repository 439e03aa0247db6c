import { readFileSync } from 'node:fs';
import type { Command } from './command.js';
import { UsageError } from './command.js';

// Commands load lazily so `sbp --help` and small commands start fast (TensorFlow.js is only loaded where used).
const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  demo: {
    summary: 'hub + worker + simulated agent in one process (what `npm start` runs)',
    load: async () => (await import('./demo.js')).command,
  },
  hub: {
    summary: 'serve the WebSocket hub at /ws, REST API and dashboard',
    load: async () => (await import('./hub.js')).command,
  },
  worker: {
    summary: 'consume probe streams, run the models, publish results',
    load: async () => (await import('./worker.js')).command,
  },
  agent: {
    summary:
      'run the bundled agent (simulator by default, --scan for real probes); `agent calibrate` for a calibration walk',
    load: async () => (await import('./agent.js')).command,
  },
  train: {
    summary: 'train positioning (and anomaly) models from a calibration walk into a model directory',
    load: async () => (await import('./train.js')).command,
  },
  evaluate: {
    summary: 'evaluate a model directory on a walk: mean/median/p90 error, room accuracy',
    load: async () => (await import('./evaluate.js')).command,
  },
  anomaly: {
    summary: '`anomaly evaluate --csv FILE`: ROC/PR AUC of the isolation forest against the baseline',
    load: async () => (await import('./anomaly.js')).command,
  },
  replay: {
    summary: 'replay a captured dataset through the worker code, with metrics and an HTML report',
    load: async () => (await import('./replay.js')).command,
  },
  simulate: {
    summary: 'generate seeded datasets: site, calibration walk, a day of traffic with labelled anomalies',
    load: async () => (await import('./simulate.js')).command,
  },
};

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return [
    `sbp ${version()} — SmartBlueprint: where the devices on your network are, and which behave strangely`,
    '',
    'usage: sbp <command> [options]      sbp <command> --help',
    '',
    'commands:',
    ...lines,
    '',
    'Distributed mode: set REDIS_URL (or pass --redis URL) to run hubs and workers on several machines.',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return 0;
  }
  if (name === '--version' || name === '-v') {
    console.log(version());
    return 0;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    console.error(`sbp: unknown command "${name}"\n\n${help()}`);
    return 2;
  }
  const command = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(command.usage);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`sbp ${name}: ${error.message}\n\n${command.usage}`);
      return 2;
    }
    throw error;
  }
}
