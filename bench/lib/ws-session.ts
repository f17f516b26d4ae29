/**
 * One client session through Centrifugo, in its JSON protocol over a raw `ws` socket (no SDK):
 * open the WebSocket, connect with a token, subscribe to one channel, close. Every reply is
 * checked: the connect reply must carry a `connect` result, the subscribe reply a `subscribe`
 * result, neither an `error`; a close or a timeout before both is a failure.
 */
import WebSocket from 'ws';

export interface SessionOutcome {
  readonly ok: boolean;
  /** Why it failed (the first reason seen). */
  readonly reason?: string;
}

interface Reply {
  id?: number;
  connect?: unknown;
  subscribe?: unknown;
  error?: { code: number; message: string };
}

/** `connect` is the connect command's body: `{token}` for Centrifugo, `{data: {token}}` for a proxy. */
export function connectAndSubscribe(url: string, connect: object, channel: string, timeoutMs: number): Promise<SessionOutcome> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: timeoutMs });
    let settled = false;
    const finish = (outcome: SessionOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // A clean close on success; a failed session is cut at once.
      if (outcome.ok) ws.close(1000);
      else ws.terminate();
      resolve(outcome);
    };
    const timer = setTimeout(() => finish({ ok: false, reason: 'timeout' }), timeoutMs);
    ws.on('open', () => ws.send(JSON.stringify({ id: 1, connect })));
    ws.on('message', (data: Buffer) => {
      // A frame may hold several replies, one per line (server-side pushes come first).
      for (const line of data.toString().split('\n')) {
        if (line === '') continue;
        const reply = JSON.parse(line) as Reply;
        if (reply.error) return finish({ ok: false, reason: `error ${reply.error.code} ${reply.error.message}` });
        if (reply.id === 1) {
          if (!reply.connect) return finish({ ok: false, reason: 'connect reply without result' });
          ws.send(JSON.stringify({ id: 2, subscribe: { channel } }));
        } else if (reply.id === 2) {
          return finish(reply.subscribe ? { ok: true } : { ok: false, reason: 'subscribe reply without result' });
        }
      }
    });
    ws.on('close', (code: number, reason: Buffer) => finish({ ok: false, reason: `closed ${code} ${reason.toString()}` }));
    ws.on('error', (err: Error) => finish({ ok: false, reason: err.message }));
  });
}
