import { isIP } from 'node:net';
import type { AnchorReading, CalibrationSampler } from '../probe-source.js';
import { icmpPing, type ProbeOutcome, tcpPing } from '../scan/ping.js';

export interface ScanSamplerOptions {
  /** The site's anchor ids: IP addresses the agent can reach. */
  anchors: readonly string[];
  /** @defaultValue `icmp` */
  method?: 'icmp' | 'tcp';
  tcpPort?: number;
  /** @defaultValue 1000 */
  timeoutMs?: number;
  pingPath?: string;
}

/**
 * Calibration samples from real probes: RTT to every anchor, the user standing at the point. Ping-grade RTT carries
 * almost no range information (one metre adds 6.7 ns to a round trip; stack jitter is milliseconds), so this mostly
 * documents which anchors are reachable from where; FTM or RSSI readings are what positioning learns from.
 */
export class ScanCalibrationSampler implements CalibrationSampler {
  constructor(private readonly opts: ScanSamplerOptions) {
    const bad = opts.anchors.filter((a) => isIP(a) === 0);
    if (bad.length > 0)
      throw new Error(`anchors must be IP addresses to be probed; not IPs: ${bad.join(', ')}`);
  }

  anchors(): readonly string[] {
    return this.opts.anchors;
  }

  async sample(
    _point: { x: number; y: number },
    samples: number,
    onSample?: (done: number) => void,
  ): Promise<AnchorReading[][]> {
    const out: AnchorReading[][] = [];
    for (let i = 0; i < samples; i++) {
      const set: AnchorReading[] = [];
      for (const anchor of this.opts.anchors) {
        const outcome = await this.probe(anchor);
        if (outcome.status === 'reply')
          set.push({ targetIp: anchor, rtt: Math.round(outcome.rttMs * 1000) / 1000 });
      }
      out.push(set);
      onSample?.(i + 1);
    }
    return out;
  }

  async close(): Promise<void> {}

  private probe(anchor: string): Promise<ProbeOutcome> {
    const timeoutMs = this.opts.timeoutMs ?? 1000;
    if ((this.opts.method ?? 'icmp') === 'tcp')
      return tcpPing(anchor, { timeoutMs, port: this.opts.tcpPort ?? 80 });
    return icmpPing(anchor, {
      timeoutMs,
      ...(this.opts.pingPath === undefined ? {} : { pingPath: this.opts.pingPath }),
    });
  }
}
