import type { Message, MessageOf } from '../protocol/index.js';
import type { SimulatedWorld } from '../sim/index.js';

export interface ProbeTrafficOptions {
  /** Seconds of traffic. */
  durationS: number;
  /** Seconds between two rounds of probes (every device × every heard anchor). @defaultValue 1 */
  intervalS?: number;
  /** @defaultValue 'sim_agent_001' */
  agentId?: string;
  /** Called with each device's true position at each round (labels). */
  onTruth?: (deviceId: string, t: number, truth: { x: number; y: number; room?: string }) => void;
}

/**
 * The probes an agent sends about the devices of a simulated world: one `pingResult` per device per heard anchor per
 * round, with the device's id, RSSI and RTT — the bulk of live traffic. Sequence numbers increase per agent.
 */
export function* probeTraffic(world: SimulatedWorld, options: ProbeTrafficOptions): Generator<Message> {
  const agentId = options.agentId ?? 'sim_agent_001';
  const dt = (options.intervalS ?? 1) * 1000;
  const rounds = Math.floor(options.durationS / (options.intervalS ?? 1));
  let seq = 0;
  for (let i = 0; i < rounds; i++) {
    const step = world.step(dt);
    const timestamp = new Date(step.t).toISOString();
    for (const d of step.devices) {
      options.onTruth?.(d.deviceId, step.t, d.truth);
      for (const r of d.readings) {
        const data: MessageOf<'pingResult'>['data'] = {
          targetIp: r.anchorId,
          targetType: 'anchor',
          sequenceNumber: seq++,
          success: r.rtt !== undefined,
          deviceId: d.deviceId,
        };
        if (r.rtt !== undefined) data.rtt = Math.round(r.rtt * 1e6) / 1e6;
        if (r.rssi !== undefined) data.rssi = Math.round(r.rssi * 10) / 10;
        yield { type: 'pingResult', agentId, timestamp, data };
      }
    }
  }
}
