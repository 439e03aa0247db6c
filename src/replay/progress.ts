import cliProgress from 'cli-progress';

export interface ProgressState {
  bytesRead: number;
  totalBytes: number;
  messages: number;
  badLines: number;
  emitted: number;
}

export interface ProgressReporter {
  update(state: ProgressState): void;
  stop(state: ProgressState): void;
}

function mb(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MB`;
}

/**
 * A bar on a terminal (cli-progress), a plain line every `intervalMs` elsewhere (CI logs, pipes), nothing when
 * `quiet`. Writes to the stream it is given (the CLI passes stderr, so stdout stays for results and --json).
 */
export function createProgress(
  stream: NodeJS.WritableStream & { isTTY?: boolean },
  options: { label: string; quiet?: boolean; intervalMs?: number },
): ProgressReporter {
  if (options.quiet) return { update() {}, stop() {} };
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format: `${options.label} |{bar}| {percentage}% · {messages} msgs · {rate} msg/s · {bad} bad · ETA {eta_formatted}`,
        barCompleteChar: '█',
        barIncompleteChar: '░',
        hideCursor: true,
        etaBuffer: 50,
        fps: 10,
      },
      cliProgress.Presets.shades_classic,
    );
    const started = performance.now();
    let running = false;
    const payload = (s: ProgressState) => ({
      messages: s.messages.toLocaleString('en-US'),
      bad: s.badLines,
      rate: Math.round(s.messages / Math.max(1e-3, (performance.now() - started) / 1000)).toLocaleString(
        'en-US',
      ),
    });
    return {
      update(s) {
        if (!running) {
          bar.start(Math.max(1, s.totalBytes), 0, payload(s));
          running = true;
        }
        bar.update(s.bytesRead, payload(s));
      },
      stop(s) {
        if (!running) bar.start(Math.max(1, s.totalBytes), 0, payload(s));
        bar.update(Math.max(1, s.totalBytes), payload(s));
        bar.stop();
      },
    };
  }
  const interval = options.intervalMs ?? 2000;
  const started = performance.now();
  let last = started;
  const line = (s: ProgressState) => {
    const pct = s.totalBytes > 0 ? Math.min(100, (100 * s.bytesRead) / s.totalBytes) : 0;
    const secs = (performance.now() - started) / 1000;
    stream.write(
      `${options.label}: ${pct.toFixed(0)}% (${mb(s.bytesRead)} of ${mb(s.totalBytes)}), ${s.messages} messages, ${s.badLines} bad, ${s.emitted} emitted, ${secs.toFixed(1)} s\n`,
    );
  };
  return {
    update(s) {
      const now = performance.now();
      if (now - last < interval) return;
      last = now;
      line(s);
    },
    stop(s) {
      line(s);
    },
  };
}
