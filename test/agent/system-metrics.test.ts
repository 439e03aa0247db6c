import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import {
  CpuSampler,
  diskUsagePercent,
  memoryUsagePercent,
  ProcessCpuSampler,
  systemInfo,
} from '../../src/agent/system-metrics.js';

// What the heartbeat and systemHealth report, checked against the operating system's own accounts.

function spin(ms: number): void {
  const end = performance.now() + ms;
  let x = 0;
  while (performance.now() < end) x = (x + Math.sqrt(x + 1)) % 1e6;
  expect(x).toBeGreaterThanOrEqual(0);
}

function meminfoKb(field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/meminfo', 'utf8'));
  if (!m) throw new Error(`no ${field} in /proc/meminfo`);
  return Number(m[1]);
}

describe('system metrics', () => {
  it('memory in use is (MemTotal − MemAvailable) / MemTotal, as /proc/meminfo says', () => {
    const expected = 100 * (1 - meminfoKb('MemAvailable') / meminfoKb('MemTotal'));
    // Other processes allocate between the two reads; a few points is plenty.
    expect(Math.abs(memoryUsagePercent() - expected)).toBeLessThan(3);
  });

  it('disk use is what df shows for the same file system', () => {
    const out = execFileSync('df', ['--output=pcent', '.'], { encoding: 'utf8' });
    const df = Number(/(\d+)%/.exec(out)?.[1]);
    const ours = diskUsagePercent('.');
    expect(ours).toBeDefined();
    // df rounds up to a whole percent.
    expect(Math.abs(ours! - df)).toBeLessThanOrEqual(1.5);
    expect(diskUsagePercent('/no/such/path')).toBeUndefined();
  });

  it('machine CPU rises while a core is kept busy; the process share is at most about one core', () => {
    const machine = new CpuSampler();
    const proc = new ProcessCpuSampler();
    spin(600);
    const busy = machine.sample();
    const own = proc.sample();
    // One busy core of os.cpus().length, whatever else the machine is doing (the ticks are coarse: 10 ms).
    expect(busy).toBeGreaterThanOrEqual((100 / os.cpus().length) * 0.6);
    expect(busy).toBeLessThanOrEqual(100);
    // The spin alone is one core; on a loaded machine the scheduler may give it less, never much more.
    expect(own).toBeGreaterThan(25);
    expect(own).toBeLessThan(130);
  });

  it('describes the machine', () => {
    const info = systemInfo();
    expect(info.cpus).toBe(os.cpus().length);
    expect(info.totalMemoryMb).toBe(Math.round(meminfoKb('MemTotal') / 1024));
    expect(info.nodeVersion).toBe(process.versions.node);
    expect(info.os).toContain(os.release());
  });
});
