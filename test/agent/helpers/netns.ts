import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { reportMissing } from '../../helpers/system-requirement.js';

/**
 * A network namespace joined to the host by a veth pair, on a private 10.200.X.0/24 that exists only on that pair:
 * host side 10.200.X.1, namespace side 10.200.X.2. Traffic to it never touches the machine's real network.
 */
export interface NetnsLab {
  ns: string;
  hostIf: string;
  nsIf: string;
  hostAddress: string;
  nsAddress: string;
  /** An address on the same veth subnet that nobody holds (probes to it are lost). */
  absentAddress: string;
  nsMac: string;
  exec(cmd: string, args: string[]): string;
  spawnInNs(cmd: string, args: string[]): ChildProcess;
  /** Pings the namespace host (never anything else) until it answers; false after `tries` seconds. */
  waitReachable(tries?: number): boolean;
  destroy(): void;
}

function ip(args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** True when this process may create network namespaces (root, not in a restricted container). */
export function haveNetns(): boolean {
  const probe = `sbpchk${process.pid % 100000}`;
  try {
    ip(['netns', 'add', probe]);
    ip(['netns', 'del', probe]);
    return true;
  } catch {
    return reportMissing(
      'network namespaces (ip netns add, veth)',
      'run the tests as root (or with CAP_NET_ADMIN) on Linux with iproute2 installed',
    );
  }
}

/** True when the system `ping` exists. */
export function havePing(): boolean {
  try {
    execFileSync('ping', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return reportMissing("the system 'ping' (iputils)", 'apt-get install -y iputils-ping');
  }
}

export function createNetnsLab(): NetnsLab {
  const usedSubnets = ip(['-4', 'addr', 'show']);
  let x = randomInt(1, 255);
  for (let i = 0; i < 50 && usedSubnets.includes(`10.200.${x}.`); i++) x = randomInt(1, 255);
  const tag = `${process.pid % 10000}${randomInt(100, 999)}`;
  const ns = `sbpa${tag}`;
  const hostIf = `sbh${tag}`;
  const nsIf = `sbn${tag}`;
  const nsMac = `b8:27:eb:${randomInt(16, 255).toString(16)}:${randomInt(16, 255).toString(16)}:${randomInt(16, 255).toString(16)}`;
  const lab: NetnsLab = {
    ns,
    hostIf,
    nsIf,
    hostAddress: `10.200.${x}.1`,
    nsAddress: `10.200.${x}.2`,
    absentAddress: `10.200.${x}.3`,
    nsMac,
    exec: (cmd, args) =>
      execFileSync('ip', ['netns', 'exec', ns, cmd, ...args], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    spawnInNs: (cmd, args) =>
      spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }),
    waitReachable: (tries = 10) => {
      for (let i = 0; i < tries; i++) {
        try {
          execFileSync('ping', ['-c1', '-W1', '-I', hostIf, lab.nsAddress], { stdio: 'ignore' });
          return true;
        } catch {
          // not yet: the address is still settling or the neighbour entry is still FAILED
        }
      }
      return false;
    },
    destroy: () => {
      try {
        ip(['netns', 'del', ns]);
      } catch {
        // already gone
      }
      try {
        ip(['link', 'del', hostIf]);
      } catch {
        // deleting the namespace removed the pair
      }
    },
  };
  try {
    ip(['netns', 'add', ns]);
    ip(['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf]);
    ip(['link', 'set', nsIf, 'netns', ns]);
    ip(['-n', ns, 'link', 'set', nsIf, 'address', nsMac]);
    ip(['addr', 'add', `${lab.hostAddress}/24`, 'dev', hostIf]);
    ip(['link', 'set', hostIf, 'up']);
    ip(['-n', ns, 'addr', 'add', `${lab.nsAddress}/24`, 'dev', nsIf]);
    ip(['-n', ns, 'link', 'set', nsIf, 'up']);
    ip(['-n', ns, 'link', 'set', 'lo', 'up']);
  } catch (error) {
    lab.destroy();
    throw error;
  }
  return lab;
}
