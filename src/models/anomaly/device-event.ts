import type { BehaviourEvent } from '../contracts/behaviour.js';

/** A behaviour event and the device it is about. */
export interface DeviceEvent {
  deviceId: string;
  event: BehaviourEvent;
}

/** Events grouped per device, each list in time order (stable for equal times). */
export function groupByDevice(events: Iterable<DeviceEvent>): Map<string, BehaviourEvent[]> {
  const byDevice = new Map<string, BehaviourEvent[]>();
  for (const { deviceId, event } of events) {
    let list = byDevice.get(deviceId);
    if (!list) {
      list = [];
      byDevice.set(deviceId, list);
    }
    list.push(event);
  }
  for (const list of byDevice.values()) {
    for (let i = 1; i < list.length; i++) {
      if (list[i]!.t < list[i - 1]!.t) {
        list.sort((a, b) => a.t - b.t);
        break;
      }
    }
  }
  return byDevice;
}
