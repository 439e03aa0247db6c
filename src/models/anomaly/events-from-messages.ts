import type { Message } from '../../protocol/index.js';
import type { BehaviourEvent } from '../contracts/behaviour.js';
import type { DeviceEvent } from './device-event.js';

/*
 * Protocol messages → behaviour events, the mapping the worker and training share:
 *   pingResult   → probe (anchor = targetIp; the device is data.deviceId, or the agent itself)
 *   deviceJoin   → join (services, MAC, vendor, type, hostname)
 *   deviceLeave  → leave
 *   deviceUpdate → update (rssi, performance, activity) and, with a location, location
 * Other types carry nothing about device behaviour and map to no event.
 */

/** Location uncertainty (95 % radius, m) assumed from a confidence when the sender gave no radius. */
function uncertaintyFrom(confidence: number): number {
  return 1 + 9 * (1 - Math.min(1, Math.max(0, confidence)));
}

export function eventsFromMessage(message: Message): DeviceEvent[] {
  return eventsFromMessageAt(message, Date.parse(message.timestamp));
}

/**
 * eventsFromMessage for a caller that has already parsed `message.timestamp` into `t` (epoch ms): the worker does
 * for every message, and parsing the ISO string a second time cost ~0.3 µs a message in replay. A separate
 * function, not an optional parameter, so `messages.flatMap(eventsFromMessage)` cannot pass an index as the time.
 */
export function eventsFromMessageAt(message: Message, t: number): DeviceEvent[] {
  if (!Number.isFinite(t)) return [];
  switch (message.type) {
    case 'pingResult': {
      const d = message.data;
      const event: BehaviourEvent = { kind: 'probe', t, anchorId: d.targetIp, success: d.success };
      if (d.rtt !== undefined) event.rtt = d.rtt;
      if (d.rssi !== undefined) event.rssi = d.rssi;
      return [{ deviceId: d.deviceId ?? message.agentId, event }];
    }
    case 'deviceJoin': {
      const d = message.data;
      const event: Extract<BehaviourEvent, { kind: 'join' }> = { kind: 'join', t };
      if (d.services !== undefined) event.services = d.services;
      if (d.macAddress !== undefined) event.macAddress = d.macAddress;
      if (d.vendor !== undefined) event.vendor = d.vendor;
      if (d.deviceType !== undefined) event.deviceType = d.deviceType;
      if (d.hostname !== undefined) event.hostname = d.hostname;
      return [{ deviceId: d.deviceId, event }];
    }
    case 'deviceLeave':
      return [{ deviceId: message.data.deviceId, event: { kind: 'leave', t, reason: message.data.reason } }];
    case 'deviceUpdate': {
      const d = message.data;
      const out: DeviceEvent[] = [];
      const update: Extract<BehaviourEvent, { kind: 'update' }> = { kind: 'update', t };
      if (d.rssi !== undefined) update.rssi = d.rssi;
      const p = d.performance;
      if (p?.latency !== undefined) update.latency = p.latency;
      if (p?.packetLoss !== undefined) update.packetLoss = p.packetLoss;
      if (p?.bandwidth !== undefined) update.bandwidth = p.bandwidth;
      const a = d.activity;
      if (a?.portScans !== undefined) update.portScans = a.portScans;
      if (a?.connectionAttempts !== undefined) update.connectionAttempts = a.connectionAttempts;
      if (a?.dataVolume !== undefined) update.dataVolume = a.dataVolume;
      if (a?.services !== undefined) update.services = a.services;
      if (Object.keys(update).length > 2) out.push({ deviceId: d.deviceId, event: update });
      if (d.location) {
        const l = d.location;
        out.push({
          deviceId: d.deviceId,
          event: {
            kind: 'location',
            t,
            x: l.x,
            y: l.y,
            uncertainty: l.uncertainty ?? uncertaintyFrom(l.confidence),
          },
        });
      }
      return out;
    }
    default:
      return [];
  }
}
