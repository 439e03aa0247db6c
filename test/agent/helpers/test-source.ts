import type { ProbeContext, ProbeSource, SourceHealth } from '../../../src/agent/probe-source.js';

/** A probe source the test drives by hand: `emit(n)` produces n pingResults to 127.0.0.1 with fresh sequence numbers. */
export class ManualSource implements ProbeSource {
  readonly name = 'manual';
  readonly capabilities = ['ping_probe'];
  readonly dataSources = ['test'];
  ctx: ProbeContext | undefined;
  stopped = false;

  async start(ctx: ProbeContext): Promise<void> {
    this.ctx = ctx;
  }

  async stop(): Promise<void> {
    this.stopped = true;
  }

  health(): SourceHealth {
    return { services: { pingProber: 'running' }, probes: 0, probeFailures: 0, recentErrors: [] };
  }

  interfaceAddress(): string | undefined {
    return undefined;
  }

  /** Emits n pingResults; returns their sequence numbers. */
  emit(n: number): number[] {
    const ctx = this.ctx;
    if (ctx === undefined) throw new Error('source not started');
    const seqs: number[] = [];
    for (let i = 0; i < n; i++) {
      const sequenceNumber = ctx.nextSequence();
      seqs.push(sequenceNumber);
      ctx.emit({
        type: 'pingResult',
        data: { targetIp: '127.0.0.1', targetType: 'device', rtt: 0.05, sequenceNumber, success: true },
      });
    }
    return seqs;
  }
}
