import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { reportMissing } from '../helpers/system-requirement.js';
import { AGENT_TOKEN, Client, example, refusedStatus, roundTrip, startHub, VIEWER_TOKEN } from './helpers.js';

const OPENSSL = '/usr/bin/openssl';
const haveOpenssl = existsSync(OPENSSL) || reportMissing('openssl', 'apt-get install -y openssl');
const dir = mkdtempSync(join(tmpdir(), 'sbp-tls-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A throw-away self-signed certificate for 127.0.0.1, made by Debian's openssl. */
function makeCertificate(): { cert: string; key: string } {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync(
    OPENSSL,
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ],
    { stdio: 'ignore' },
  );
  return { cert, key };
}

describe.runIf(haveOpenssl)('hub over TLS', () => {
  it('serves wss:// and https:// with the given certificate', async () => {
    const tls = makeCertificate();
    const ca = readFileSync(tls.cert);
    const h = await startHub({ tls });
    try {
      expect(h.url).toMatch(/^wss:\/\/127\.0\.0\.1:\d+\/ws$/);
      const viewer = await Client.connect(h.url, VIEWER_TOKEN, { ca });
      const agent = await Client.connect(h.url, AGENT_TOKEN, { ca });
      agent.send(example('pingResult'));
      await roundTrip(agent);
      expect((await viewer.waitFor(1))[0]?.type).toBe('pingResult');
      expect(h.sink.records).toHaveLength(1);
      // A client that does not trust the certificate cannot connect.
      await expect(Client.connect(h.url, AGENT_TOKEN)).rejects.toThrow(/self[- ]signed|certificate/i);
      expect(await refusedStatus(h.url, {}, ca)).toBe(401);
      const health = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        get(`${h.address.httpUrl}/health`, { ca }, (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        }).on('error', reject);
      });
      expect(health.status).toBe(200);
      expect(JSON.parse(health.body).status).toBe('ok');
      await agent.close();
      await viewer.close();
    } finally {
      await h.close();
    }
  });
});
