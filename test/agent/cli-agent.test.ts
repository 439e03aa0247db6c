import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMessage } from '../../src/protocol/index.js';
import { reportMissing } from '../helpers/system-requirement.js';
import { MiniHub } from './helpers/mini-hub.js';

const ROOT = join(import.meta.dirname, '..', '..');
const AGENT = 'agent_cli_01';
const TOKEN = 'cli-token-01';

function sbp(
  args: string[],
  stdin?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [join(ROOT, 'bin', 'sbp.js'), ...args], {
      cwd: ROOT,
      stdio: 'pipe',
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    proc.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    proc.on('exit', (code) => resolve({ code, stdout, stderr }));
    if (stdin !== undefined) proc.stdin.end(stdin);
    else proc.stdin.end();
  });
}

// A two-room site; anchor ids are RFC 5737 documentation addresses used as names only (the simulator measures them).
const SITE = {
  name: 'cli-test-flat',
  bounds: { minX: 0, minY: 0, maxX: 6, maxY: 4 },
  anchors: [
    { id: '198.51.100.1', x: 0, y: 0, kind: 'access_point' },
    { id: '198.51.100.2', x: 6, y: 0, kind: 'access_point' },
    { id: '198.51.100.3', x: 0, y: 4, kind: 'gateway' },
    { id: '198.51.100.4', x: 6, y: 4, kind: 'beacon' },
  ],
  rooms: [
    {
      id: 'living',
      polygon: [
        [0, 0],
        [4, 0],
        [4, 4],
        [0, 4],
      ],
    },
    {
      id: 'bedroom',
      polygon: [
        [4, 0],
        [6, 0],
        [6, 4],
        [4, 4],
      ],
    },
  ],
};

let dir: string;
let hub: MiniHub;
let url: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sbp-agent-cli-'));
  writeFileSync(join(dir, 'site.json'), JSON.stringify(SITE));
  hub = new MiniHub({ agents: { [AGENT]: TOKEN } });
  url = await hub.listen();
});
afterAll(async () => {
  await hub?.close();
  rmSync(dir, { recursive: true, force: true });
});

function walkLines(file: string) {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const parsed = parseMessage(JSON.parse(l));
      if (!parsed.ok) throw new Error(`invalid line: ${parsed.error.message}`);
      if (parsed.message.type !== 'pingCalibration')
        throw new Error(`not a pingCalibration: ${parsed.message.type}`);
      return parsed.message;
    });
}

describe('sbp agent calibrate (scripted)', () => {
  it('--points FILE: writes one valid pingCalibration per sample, rooms from the site, and sends them to the hub', async () => {
    writeFileSync(join(dir, 'points.txt'), '# x y room\n1 1\n3.5,2\n5 3 bedroom\n{"x": 2, "y": 3.5}\n');
    const out = join(dir, 'walk.jsonl');
    const r = await sbp([
      'agent',
      'calibrate',
      '--agent-id',
      AGENT,
      '--site',
      join(dir, 'site.json'),
      '--out',
      out,
      '--points',
      join(dir, 'points.txt'),
      '--samples',
      '3',
      '--seed',
      '4',
      '--hub',
      url,
      '--token',
      TOKEN,
    ]);
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.code).toBe(0);
    const lines = walkLines(out);
    expect(lines).toHaveLength(12);
    expect(lines.map((l) => l.data.knownLocation)).toEqual([
      ...Array(3).fill({ x: 1, y: 1, room: 'living' }),
      ...Array(3).fill({ x: 3.5, y: 2, room: 'living' }),
      ...Array(3).fill({ x: 5, y: 3, room: 'bedroom' }),
      ...Array(3).fill({ x: 2, y: 3.5, room: 'living' }),
    ]);
    const anchors = new Set(SITE.anchors.map((a) => a.id));
    for (const l of lines) {
      expect(l.agentId).toBe(AGENT);
      for (const m of l.data.measurements) expect(anchors.has(m.targetIp)).toBe(true);
    }
    // The beacon is heard by RSSI only; the FTM access points carry both.
    expect(
      lines.some((l) =>
        l.data.measurements.some((m) => m.targetIp === '198.51.100.4' && m.rtt === undefined),
      ),
    ).toBe(true);
    expect(new Set(lines.map((l) => l.data.calibrationId)).size).toBe(12);
    expect(r.stdout).toMatch(/rooms 2\/2/);
    expect(r.stdout).toMatch(/walk done: 4 points, 12 messages/);
    const sent = hub.ofType('pingCalibration').filter((m) => m.agentId === AGENT);
    expect(sent.map((m) => m.data.calibrationId)).toEqual(lines.map((l) => l.data.calibrationId));
  });

  it('writes a walk that `sbp train` reads: a grid walk trains a model that places held-out points', async () => {
    const out = join(dir, 'walk-train.jsonl');
    const points: string[] = [];
    for (let x = 0.5; x < 6; x += 1) for (let y = 0.5; y < 4; y += 1) points.push(`${x} ${y}`);
    writeFileSync(join(dir, 'grid.txt'), `${points.join('\n')}\n`);
    const walked = await sbp([
      'agent',
      'calibrate',
      '--agent-id',
      AGENT,
      '--site',
      join(dir, 'site.json'),
      '--out',
      out,
      '--points',
      join(dir, 'grid.txt'),
      '--samples',
      '2',
      '--seed',
      '11',
    ]);
    expect(walked.code, walked.stderr).toBe(0);
    expect(walkLines(out)).toHaveLength(2 * points.length);
    const models = join(dir, 'walk-models');
    const trained = await sbp([
      'train',
      '--input',
      out,
      '--site',
      join(dir, 'site.json'),
      '--out',
      models,
      '--folds',
      '3',
      '--fingerprint-steps',
      '30',
      '--seed',
      '2',
    ]);
    expect(trained.code, trained.stderr).toBe(0);
    expect(trained.stdout).not.toMatch(/bad lines? skipped/);
    const latest = readFileSync(join(models, 'LATEST'), 'utf8').trim();
    const meta = JSON.parse(readFileSync(join(models, latest, 'metadata.json'), 'utf8'));
    expect(meta.positioning.data.points).toBe(points.length);
    // Always guessing the middle of this 6 m × 4 m flat errs by 1.9 m on average over the grid; the model learnt
    // from the walk does much better (0.76 m when this was written).
    expect(meta.positioning.metrics.heldOut.meanError).toBeGreaterThan(0);
    expect(meta.positioning.metrics.heldOut.meanError).toBeLessThan(1.3);
  });

  it('reads points from stdin when it is not a terminal, and appends to the file', async () => {
    const out = join(dir, 'walk-stdin.jsonl');
    writeFileSync(out, '');
    const first = await sbp(
      [
        'agent',
        'calibrate',
        '--agent-id',
        AGENT,
        '--site',
        join(dir, 'site.json'),
        '--out',
        out,
        '--samples',
        '2',
      ],
      '0.5 0.5\n5.5 3.5\n',
    );
    expect(first.code).toBe(0);
    const again = await sbp(
      [
        'agent',
        'calibrate',
        '--agent-id',
        AGENT,
        '--site',
        join(dir, 'site.json'),
        '--out',
        out,
        '--samples',
        '2',
      ],
      '3 3\n',
    );
    expect(again.code).toBe(0);
    const lines = walkLines(out);
    expect(lines.map((l) => l.data.knownLocation.room)).toEqual([
      'living',
      'living',
      'bedroom',
      'bedroom',
      'living',
      'living',
    ]);
    expect(first.stdout).toContain('|');
  });

  it('explains bad input: a malformed point, a site with anchors that are not IPs', async () => {
    const bad = await sbp(
      [
        'agent',
        'calibrate',
        '--agent-id',
        AGENT,
        '--site',
        join(dir, 'site.json'),
        '--out',
        join(dir, 'x.jsonl'),
      ],
      '1 one\n',
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/stdin line 1: expected "x y \[room\]"/);
    writeFileSync(join(dir, 'named.json'), JSON.stringify({ ...SITE, anchors: [{ id: 'AP1', x: 0, y: 0 }] }));
    const named = await sbp(
      [
        'agent',
        'calibrate',
        '--agent-id',
        AGENT,
        '--site',
        join(dir, 'named.json'),
        '--out',
        join(dir, 'y.jsonl'),
      ],
      '1 1\n',
    );
    expect(named.code).toBe(2);
    expect(named.stderr).toMatch(/not IPs: AP1/);
  });
});

describe('sbp agent', () => {
  it('exits with code 4 and says so when the token is wrong', async () => {
    const r = await sbp(['agent', '--hub', url, '--agent-id', AGENT, '--token', 'wrong']);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/token or the agentId is wrong/);
  });

  it('gives up after --max-retries attempts on the spec schedule and says manual intervention is needed (exit 3)', async () => {
    // A port that nothing listens on: every attempt is refused at once, so only the backoff delays count.
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
    });
    const started = Date.now();
    const r = await sbp([
      'agent',
      '--hub',
      `ws://127.0.0.1:${port}/ws`,
      '--agent-id',
      AGENT,
      '--token',
      TOKEN,
      '--max-retries',
      '2',
    ]);
    const seconds = (Date.now() - started) / 1000;
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/reconnecting in 1 s \(attempt 1\/2\)/);
    expect(r.stdout).toMatch(/reconnecting in 2 s \(attempt 2\/2\)/);
    expect(r.stdout).not.toMatch(/attempt 3/);
    expect(r.stderr).toMatch(
      /could not reach the hub at ws:\/\/127\.0\.0\.1:\d+\/ws after 2 attempts \(.*ECONNREFUSED.*\)\. Manual intervention is needed/,
    );
    // 1 s + 2 s of backoff, plus the start-up of a Node process.
    expect(seconds).toBeGreaterThanOrEqual(3);
    expect(seconds).toBeLessThan(20);
    // The simulator kept producing meanwhile; what could not be sent is reported, not silently lost.
    expect(r.stdout).toMatch(/sent 0 · buffered [1-9]\d* · dropped 0/);
  });

  it('refuses bad options with usage (exit 2)', async () => {
    const r = await sbp(['agent', '--hub', 'http://x', '--agent-id', AGENT, '--token', TOKEN]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--hub must start with ws:\/\/ or wss:\/\//);
    const mixed = await sbp([
      'agent',
      '--hub',
      url,
      '--agent-id',
      AGENT,
      '--token',
      TOKEN,
      '--targets',
      '127.0.0.1',
    ]);
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toMatch(/--targets is a --scan option/);
  });

  it('runs the simulator against a hub, prints results, and stops cleanly on SIGTERM', async () => {
    const proc = spawn(
      process.execPath,
      [
        join(ROOT, 'bin', 'sbp.js'),
        'agent',
        '--hub',
        url,
        '--agent-id',
        AGENT,
        '--token',
        TOKEN,
        '--rate',
        '50',
        '--send-rate',
        '0',
      ],
      { cwd: ROOT, stdio: 'pipe' },
    );
    let stdout = '';
    proc.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    const before = hub.ofType('pingResult').length;
    const deadline = Date.now() + 20_000;
    while (hub.ofType('pingResult').length < before + 20 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    hub.broadcast({
      type: 'mlScoreUpdate',
      agentId: AGENT,
      timestamp: new Date().toISOString(),
      data: { deviceId: 'aa:bb:cc:dd:ee:ff', scores: { anomalyScore: 0.5 } },
    });
    await new Promise((r) => setTimeout(r, 300));
    proc.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => proc.on('exit', (c) => r(c)));
    expect(code).toBe(0);
    expect(hub.ofType('pingResult').length).toBeGreaterThanOrEqual(before + 20);
    expect(stdout).toMatch(/connected \(connection 1\), registered/);
    expect(stdout).toMatch(/scores aa:bb:cc:dd:ee:ff: anomaly 0\.50/);
    expect(hub.ofType('agent_heartbeat').at(-1)?.data.status).toBe('shutting_down');
  });
});

// `script` (bsdutils) gives the command a pseudo-terminal; in CI its absence fails the run instead of skipping.
const haveScript =
  existsSync('/usr/bin/script') || reportMissing('/usr/bin/script (bsdutils)', 'apt-get install -y bsdutils');
describe.runIf(haveScript)('sbp agent calibrate (interactive, in a pseudo-terminal)', () => {
  it('prompts for each point, shows progress, coverage and the map, and stops at an empty line', async () => {
    const out = join(dir, 'walk-tty.jsonl');
    const cmd = [process.execPath, join(ROOT, 'bin', 'sbp.js'), 'agent', 'calibrate', '--agent-id', AGENT]
      .concat(['--site', join(dir, 'site.json'), '--out', out, '--samples', '2'])
      .map((a) => `'${a}'`)
      .join(' ');
    // `script` gives the command a terminal; answers are typed once each prompt has appeared.
    const proc = spawn('/usr/bin/script', ['-qfec', cmd, '/dev/null'], { stdio: 'pipe' });
    let screen = '';
    proc.stdout.on('data', (d: Buffer) => {
      screen += d.toString();
    });
    const waitScreen = async (re: RegExp) => {
      const deadline = Date.now() + 20_000;
      while (!re.test(screen)) {
        if (Date.now() > deadline) throw new Error(`no ${re} on screen:\n${screen}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    await waitScreen(/point 1 — x y \[room\]: /);
    proc.stdin.write('1 1\n');
    await waitScreen(/point 2 — x y \[room\]: /);
    proc.stdin.write('5 3\n');
    await waitScreen(/point 3 — x y \[room\]: /);
    proc.stdin.write('\n');
    const code = await new Promise<number | null>((r) => proc.on('exit', (c) => r(c)));
    expect(code).toBe(0);
    expect(screen).toMatch(/measuring… 2\/2/);
    expect(screen).toMatch(/coverage: rooms 1\/2 \(missing: bedroom\)/);
    expect(screen).toMatch(/coverage: rooms 2\/2/);
    expect(screen).toMatch(/\|\.@\.\.\.\.\|/);
    expect(screen).toMatch(/walk done: 2 points, 4 messages/);
    expect(walkLines(out).map((l) => l.data.knownLocation.room)).toEqual([
      'living',
      'living',
      'bedroom',
      'bedroom',
    ]);
  });
});
