import { execFile } from 'node:child_process';
import { connect } from 'node:net';

/** One probe's outcome. `lost` = sent but no answer in time (a result, not a failure). */
export type ProbeOutcome =
  | { status: 'reply'; rttMs: number; ttl?: number; bytes?: number; method: 'icmp' | 'tcp' }
  | { status: 'lost'; method: 'icmp' | 'tcp'; detail: string }
  /** The probe could not run at all (no ping binary, permission, bad address, no route): PING_FAILED. */
  | { status: 'failed'; method: 'icmp' | 'tcp'; detail: string; code: string };

export interface IcmpOptions {
  /** @defaultValue 1000 */
  timeoutMs?: number;
  /** ICMP payload bytes (ping -s). @defaultValue 56 */
  packetSize?: number;
  /** Source interface name or address (ping -I). */
  source?: string;
  /** @defaultValue `ping` on PATH */
  pingPath?: string;
}

const REPLY_RE = /(\d+) bytes from [^:]+: (?:(?:icmp_)?seq=\d+ )?ttl=(\d+) time=([\d.]+) ms/;

/** Parses iputils / BusyBox ping output for one echo reply. */
export function parsePingOutput(stdout: string): { rttMs: number; ttl: number; bytes: number } | undefined {
  const m = REPLY_RE.exec(stdout);
  if (!m) return undefined;
  return { bytes: Number(m[1]), ttl: Number(m[2]), rttMs: Number(m[3]) };
}

/**
 * One ICMP echo through the system `ping` (no raw sockets in Node; `ping` holds the capability). Exit 0 = reply,
 * 1 = no reply (lost), anything else = the probe could not run.
 */
export function icmpPing(target: string, options: IcmpOptions = {}): Promise<ProbeOutcome> {
  const timeoutMs = options.timeoutMs ?? 1000;
  const args = ['-n', '-c', '1', '-W', String(Math.max(1, Math.ceil(timeoutMs / 1000)))];
  args.push('-s', String(options.packetSize ?? 56));
  if (options.source !== undefined) args.push('-I', options.source);
  args.push(target);
  return new Promise((resolve) => {
    execFile(
      options.pingPath ?? 'ping',
      args,
      { timeout: timeoutMs + 2000, env: { ...process.env, LC_ALL: 'C' } },
      (error, stdout, stderr) => {
        if (error === null) {
          const reply = parsePingOutput(stdout);
          if (reply) {
            resolve({
              status: 'reply',
              method: 'icmp',
              rttMs: reply.rttMs,
              ttl: reply.ttl,
              bytes: reply.bytes,
            });
          } else {
            resolve({ status: 'failed', method: 'icmp', code: 'UNPARSEABLE', detail: firstLine(stdout) });
          }
          return;
        }
        const e = error as NodeJS.ErrnoException & { code?: string | number };
        if (typeof e.code === 'string') {
          // ENOENT (no ping binary), EACCES, …: the process never ran.
          resolve({ status: 'failed', method: 'icmp', code: e.code, detail: e.message });
        } else if (e.code === 1) {
          resolve({ status: 'lost', method: 'icmp', detail: firstLine(lastLines(stdout)) || 'no reply' });
        } else {
          resolve({
            status: 'failed',
            method: 'icmp',
            code: `EXIT_${e.code ?? 'SIGNAL'}`,
            detail: firstLine(stderr) || firstLine(stdout) || e.message,
          });
        }
      },
    );
  });
}

export interface TcpPingOptions {
  /** @defaultValue 80 */
  port?: number;
  /** @defaultValue 1000 */
  timeoutMs?: number;
  /** Local address to connect from. */
  localAddress?: string;
}

/**
 * TCP connect time where ICMP is not allowed: the time to the SYN-ACK — or to the RST of a closed port, which is just
 * as good a round trip. Only a timeout is a lost probe; routing errors mean the probe could not run.
 */
export function tcpPing(target: string, options: TcpPingOptions = {}): Promise<ProbeOutcome> {
  const timeoutMs = options.timeoutMs ?? 1000;
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = connect({
      host: target,
      port: options.port ?? 80,
      ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
    });
    let done = false;
    const finish = (outcome: ProbeOutcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(
      () => finish({ status: 'lost', method: 'tcp', detail: `no answer within ${timeoutMs} ms` }),
      timeoutMs,
    );
    socket.once('connect', () =>
      finish({ status: 'reply', method: 'tcp', rttMs: performance.now() - started }),
    );
    socket.once('error', (error: NodeJS.ErrnoException) => {
      const rttMs = performance.now() - started;
      if (error.code === 'ECONNREFUSED') finish({ status: 'reply', method: 'tcp', rttMs });
      else if (error.code === 'ETIMEDOUT' || error.code === 'EHOSTUNREACH') {
        finish({ status: 'lost', method: 'tcp', detail: error.code });
      } else finish({ status: 'failed', method: 'tcp', code: error.code ?? 'ERROR', detail: error.message });
    });
  });
}

function firstLine(text: string): string {
  return text.split('\n').find((l) => l.trim() !== '') ?? '';
}

/** The line after the PING header, e.g. "From 10.0.0.1 icmp_seq=1 Destination Host Unreachable". */
function lastLines(stdout: string): string {
  return stdout
    .split('\n')
    .slice(1)
    .filter((l) => l.trim() !== '' && !l.startsWith('---'))
    .join('\n');
}
