import { statfsSync } from 'node:fs';
import os from 'node:os';

/**
 * Machine-wide CPU use from `os.cpus()` tick deltas: busy ticks / all ticks across every core since the previous
 * sample, as a percentage. Machine-wide (not `process.cpuUsage()`) because the protocol's heartbeat reports
 * "percentages of the machine"; the agent's own share is reported separately in systemHealth warnings when it is high.
 */
export class CpuSampler {
  private last = CpuSampler.ticks();
  private lastValue = 0;

  private static ticks(): { idle: number; total: number } {
    let idle = 0;
    let total = 0;
    for (const cpu of os.cpus()) {
      const t = cpu.times;
      idle += t.idle;
      total += t.user + t.nice + t.sys + t.idle + t.irq;
    }
    return { idle, total };
  }

  /** Percent 0..100 since the previous call (or since construction). */
  sample(): number {
    const now = CpuSampler.ticks();
    const total = now.total - this.last.total;
    const idle = now.idle - this.last.idle;
    this.last = now;
    // No ticks elapsed (two samples within one clock tick): repeat the previous value.
    if (total <= 0) return this.lastValue;
    this.lastValue = clampPercent(100 * (1 - idle / total));
    return this.lastValue;
  }
}

/** The agent process's own CPU use, percent of ONE core, from `process.cpuUsage()` deltas. */
export class ProcessCpuSampler {
  private last = process.cpuUsage();
  private lastAt = performance.now();

  sample(): number {
    const usage = process.cpuUsage(this.last);
    const now = performance.now();
    const elapsedUs = (now - this.lastAt) * 1000;
    this.last = process.cpuUsage();
    this.lastAt = now;
    if (elapsedUs <= 0) return 0;
    return Math.max(0, (100 * (usage.user + usage.system)) / elapsedUs);
  }
}

/** Machine memory in use, percent: (total − available) / total. Node reports MemAvailable as free memory on Linux. */
export function memoryUsagePercent(): number {
  const total = os.totalmem();
  return total > 0 ? clampPercent(100 * (1 - os.freemem() / total)) : 0;
}

/** Disk use of the file system holding `path`, percent (as `df` shows it: used / (used + available)). */
export function diskUsagePercent(path: string): number | undefined {
  try {
    const s = statfsSync(path);
    const used = (s.blocks - s.bfree) * s.bsize;
    const avail = s.bavail * s.bsize;
    return used + avail > 0 ? clampPercent((100 * used) / (used + avail)) : undefined;
  } catch {
    return undefined;
  }
}

export interface SystemInfo {
  os: string;
  arch: string;
  nodeVersion: string;
  hostname: string;
  cpus: number;
  totalMemoryMb: number;
}

export function systemInfo(): SystemInfo {
  return {
    os: `${os.type()} ${os.release()}`.slice(0, 256),
    arch: os.arch(),
    nodeVersion: process.versions.node,
    hostname: os.hostname().slice(0, 256),
    cpus: Math.max(1, os.cpus().length),
    totalMemoryMb: Math.round(os.totalmem() / (1024 * 1024)),
  };
}

function clampPercent(v: number): number {
  return Math.min(100, Math.max(0, Math.round(v * 10) / 10));
}
