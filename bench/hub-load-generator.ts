// Load generator for bench/hub.ts, run in its own process (child_process.fork) so that client and server do not share
// one event loop. Protocol over IPC: parent → a LoadPlan; the child builds its frames (the template with a fresh
// sequence number each) and opens every socket, then → 'ready'; parent → 'go'; the child sends every frame as fast as
// the sockets drain and answers {sent}; parent → 'close'.

import { WebSocket } from 'ws';

export interface LoadPlan {
  url: string;
  sockets: Array<{ token?: string; agentId: string }>;
  framesPerSocket: number;
  /** A pingResult; `agentId` and `data.sequenceNumber` are set per frame. */
  template: { agentId: string; data: Record<string, unknown> };
}

/** Keep at most this much unsent per socket; above it, wait for the kernel to take some. */
const HIGH_WATER = 1 << 20;

function open(url: string, token: string | undefined): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
}

async function sendAll(sockets: WebSocket[], frames: string[][]): Promise<number> {
  const next = frames.map(() => 0);
  let sent = 0;
  let remaining = sockets.length;
  while (remaining > 0) {
    remaining = 0;
    for (let s = 0; s < sockets.length; s++) {
      const socket = sockets[s]!;
      const list = frames[s]!;
      let i = next[s]!;
      while (i < list.length && socket.bufferedAmount < HIGH_WATER) {
        socket.send(list[i]!);
        i++;
        sent++;
      }
      next[s] = i;
      if (i < list.length) remaining++;
    }
    if (remaining > 0) await new Promise((r) => setImmediate(r));
  }
  return sent;
}

let sockets: WebSocket[] = [];
let frames: string[][] = [];

process.on('message', async (message: LoadPlan | 'go' | 'close') => {
  if (message === 'go') {
    const sent = await sendAll(sockets, frames);
    process.send?.({ sent });
  } else if (message === 'close') {
    for (const s of sockets) s.close();
    process.disconnect();
  } else {
    for (const s of sockets) s.close();
    const { template, framesPerSocket } = message;
    frames = message.sockets.map(({ agentId }) =>
      Array.from({ length: framesPerSocket }, (_, i) =>
        JSON.stringify({ ...template, agentId, data: { ...template.data, sequenceNumber: i } }),
      ),
    );
    sockets = await Promise.all(message.sockets.map((s) => open(message.url, s.token)));
    for (const s of sockets) s.on('message', () => {}); // replies (none expected) are read, not left to pile up
    process.send?.('ready');
  }
});
