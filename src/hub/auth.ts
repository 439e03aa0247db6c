import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { TokenFile } from './hub-config.js';

/** Who a token belongs to: an agent (bound to one agentId, may send messages) or a read-only viewer. */
export type Principal = { role: 'agent'; agentId: string } | { role: 'viewer' };

interface Entry {
  digest: Buffer;
  principal: Principal;
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/**
 * Looks tokens up in constant time: the presented token's SHA-256 is compared with every known digest using
 * `timingSafeEqual` (equal lengths by construction), without stopping at the first match, so neither a token's length
 * nor its position in the file leaks through timing.
 */
export class TokenTable {
  readonly #entries: Entry[];
  readonly agentIds: readonly string[];

  constructor(file: TokenFile) {
    this.#entries = [
      ...Object.entries(file.agents).map(([agentId, token]) => ({
        digest: digest(token),
        principal: { role: 'agent', agentId } as const,
      })),
      ...file.viewers.map((token) => ({ digest: digest(token), principal: { role: 'viewer' } as const })),
    ];
    this.agentIds = Object.keys(file.agents);
  }

  authenticate(token: string | undefined): Principal | undefined {
    if (token === undefined || token.length === 0) return undefined;
    const presented = digest(token);
    let found: Principal | undefined;
    for (const entry of this.#entries) {
      if (timingSafeEqual(entry.digest, presented) && found === undefined) found = entry.principal;
    }
    return found;
  }
}

/**
 * The token a request carries: `Authorization: Bearer <token>` (agents, scripts) or `?token=` (browsers cannot set
 * headers on a WebSocket upgrade). The header wins when both are present.
 */
export function tokenFromRequest(headers: IncomingHttpHeaders, url: string): string | undefined {
  const header = headers.authorization;
  if (typeof header === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (match) return match[1];
  }
  const q = url.indexOf('?');
  if (q === -1) return undefined;
  const token = new URLSearchParams(url.slice(q + 1)).get('token');
  return token === null || token === '' ? undefined : token;
}

/** The URL with any `token` query value replaced, for logs. */
export function redactUrl(url: string): string {
  return url.replace(/([?&]token=)[^&#]*/gi, '$1[REDACTED]');
}
