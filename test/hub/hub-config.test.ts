import { describe, expect, it } from 'vitest';
import { HubConfig, parseHubConfig } from '../../src/hub/hub-config.js';

describe('HubConfig', () => {
  it('fills the documented defaults and freezes the result', () => {
    const c = parseHubConfig({});
    expect(c).toMatchObject({
      host: '127.0.0.1',
      port: 8080,
      tokens: { agents: {}, viewers: [] },
      rateLimit: { messagesPerMinute: 100 },
      heartbeatTimeoutMs: 90_000,
      pingIntervalMs: 30_000,
      maxPayload: 1024 * 1024,
      logLevel: 'info',
    });
    expect(c.hubId).toMatch(/^hub-[0-9a-f]{8}$/);
    expect(c.capture).toBeUndefined();
    expect(c.tls).toBeUndefined();
    expect(Object.isFrozen(c)).toBe(true);
    expect(parseHubConfig({ capture: { file: 'x.jsonl' } }).capture).toEqual({
      file: 'x.jsonl',
      maxBytes: 256 * 1024 * 1024,
      maxFiles: 0,
      flushIntervalMs: 200,
    });
  });

  it('names the option a wrong value belongs to', () => {
    const r = HubConfig.safeParse({ port: 70_000, rateLimit: { messagesPerMinute: -1 }, nope: 1 });
    expect(r.success).toBe(false);
    const paths = r.error?.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['port', 'rateLimit.messagesPerMinute', '']));
  });
});
