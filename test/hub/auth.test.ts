import { describe, expect, it } from 'vitest';
import { redactUrl, TokenTable, tokenFromRequest } from '../../src/hub/auth.js';
import { TokenFile } from '../../src/hub/hub-config.js';

describe('TokenTable', () => {
  const table = new TokenTable(
    TokenFile.parse({ agents: { a1: 'token-one', a2: 'token-two' }, viewers: ['view-1', 'view-2'] }),
  );

  it('binds each agent token to its agent and viewer tokens to the viewer role', () => {
    expect(table.authenticate('token-one')).toEqual({ role: 'agent', agentId: 'a1' });
    expect(table.authenticate('token-two')).toEqual({ role: 'agent', agentId: 'a2' });
    expect(table.authenticate('view-2')).toEqual({ role: 'viewer' });
    expect(table.agentIds).toEqual(['a1', 'a2']);
  });

  it('refuses missing, empty, wrong, prefix and extended tokens', () => {
    for (const t of [undefined, '', 'token-on', 'token-one ', 'TOKEN-ONE', 'token-onex', 'view']) {
      expect(table.authenticate(t), String(t)).toBeUndefined();
    }
  });

  it('refuses a token file that gives one token to two principals, naming where', () => {
    const r = TokenFile.safeParse({ agents: { a: 'same', b: 'x' }, viewers: ['same'] });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(['viewers', 0]);
    expect(r.error?.issues[0]?.message).toContain('agent a');
    expect(TokenFile.safeParse({ agents: { 'bad id!': 't' } }).success).toBe(false);
    expect(TokenFile.safeParse({ agents: {}, viewers: [''] }).success).toBe(false);
  });
});

describe('tokenFromRequest', () => {
  it('reads a Bearer header first, then ?token=', () => {
    expect(tokenFromRequest({ authorization: 'Bearer abc' }, '/ws')).toBe('abc');
    expect(tokenFromRequest({ authorization: 'bearer  abc ' }, '/ws')).toBe('abc');
    expect(tokenFromRequest({ authorization: 'Bearer abc' }, '/ws?token=def')).toBe('abc');
    expect(tokenFromRequest({}, '/ws?x=1&token=d%2Bf')).toBe('d+f');
    expect(tokenFromRequest({ authorization: 'Basic abc' }, '/ws')).toBeUndefined();
    expect(tokenFromRequest({}, '/ws?token=')).toBeUndefined();
    expect(tokenFromRequest({}, '/ws')).toBeUndefined();
  });

  it('redacts the token query value for logs', () => {
    expect(redactUrl('/ws?token=secret')).toBe('/ws?token=[REDACTED]');
    expect(redactUrl('/api/x?a=1&token=secret&b=2')).toBe('/api/x?a=1&token=[REDACTED]&b=2');
    expect(redactUrl('/api/x?a=1')).toBe('/api/x?a=1');
  });
});
