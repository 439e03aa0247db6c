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

/** USER_HZ: /proc counts CPU time in ticks of 1/100 s on Linux. */
const TICKS_PER_S = 100;

/** This process's utime + stime from /proc/self/stat, in ticks. */
function selfTicks(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  // Fields after the command name (which may contain spaces) start at state; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** The aggregate line of /proc/stat, counted as Node's os.cpus() does (user, nice, system, idle, irq). */
function machineTicks(): { idle: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const [user, nice, system, idle, , irq] = line.trim().split(/\s+/).slice(1).map(Number) as number[];
  return { idle: idle!, total: user! + nice! + system! + idle! + irq! };
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

  it('CPU figures agree with the kernel’s own accounts in /proc while a core is kept busy', () => {
    // The machine is shared, so the share this process gets is not known in advance: compare with /proc over the
    // same interval instead (ticks of 10 ms: a few points of tolerance).
    const machine = new CpuSampler();
    const proc = new ProcessCpuSampler();
    const self0 = selfTicks();
    const all0 = machineTicks();
    const t0 = performance.now();
    spin(1000);
    const busy = machine.sample();
    const own = proc.sample();
    const wallS = (performance.now() - t0) / 1000;
    const selfPercent = (100 * (selfTicks() - self0)) / TICKS_PER_S / wallS;
    const all1 = machineTicks();
    const machinePercent = 100 * (1 - (all1.idle - all0.idle) / (all1.total - all0.total));
    expect(Math.abs(own - selfPercent)).toBeLessThan(8);
    expect(own).toBeGreaterThan(3); // it did run
    expect(Math.abs(busy - machinePercent)).toBeLessThan(8);
    // The machine is at least as busy as this process makes it.
    expect(busy).toBeGreaterThanOrEqual(own / os.cpus().length - 8);
  });

  it('describes the machine', () => {
    const info = systemInfo();
    expect(info.cpus).toBe(os.cpus().length);
    expect(info.totalMemoryMb).toBe(Math.round(meminfoKb('MemTotal') / 1024));
    expect(info.nodeVersion).toBe(process.versions.node);
    expect(info.os).toContain(os.release());
  });
});
