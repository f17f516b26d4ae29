/**
 * The same session as ws-session.ts over a bare TCP socket with just enough WebSocket (RFC 6455)
 * for Centrifugo's JSON protocol: a fixed upgrade request (the answer must be `101`), text
 * frames masked with a zero key (valid, and the payload goes out as is), unmasked replies read
 * whole (FIN set; anything else is a failure). It costs the load generator a fraction of the
 * `ws` client's CPU per session, so the load core is not what limits the ceiling row.
 */
import { connect as tcpConnect } from 'node:net';
import type { SessionOutcome } from './ws-session.js';

const ZERO_MASK = Buffer.alloc(4);

/** A client-to-server frame: FIN + opcode, the mask bit and length, the zero mask, the payload. */
function frame(opcode: number, payload: Buffer): Buffer {
  const n = payload.length;
  const head = n < 126 ? Buffer.from([0x80 | opcode, 0x80 | n]) : Buffer.from([0x80 | opcode, 0x80 | 126, n >> 8, n & 0xff]);
  if (n > 0xffff) throw new Error('frame too large for this client');
  return Buffer.concat([head, ZERO_MASK, payload]);
}
const text = (value: object) => frame(0x1, Buffer.from(JSON.stringify(value)));
const CLOSE_NORMAL = frame(0x8, Buffer.from([0x03, 0xe8]));

interface Reply {
  id?: number;
  connect?: unknown;
  subscribe?: unknown;
  error?: { code: number; message: string };
}

export function rawConnectAndSubscribe(url: string, connect: object, channel: string, timeoutMs: number): Promise<SessionOutcome> {
  const { hostname, port, pathname } = new URL(url);
  const upgrade = `GET ${pathname} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`;
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: hostname, port: Number(port), noDelay: true });
    let buffered: Buffer = Buffer.alloc(0);
    let upgraded = false;
    let settled = false;
    const finish = (outcome: SessionOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (outcome.ok) {
        // A clean close: our close frame, then the server ends the connection.
        socket.write(CLOSE_NORMAL);
        setTimeout(() => socket.destroy(), 2000).unref();
      } else {
        socket.destroy();
      }
      resolve(outcome);
    };
    const timer = setTimeout(() => finish({ ok: false, reason: 'timeout' }), timeoutMs);

    const onReply = (reply: Reply) => {
      if (reply.error) return finish({ ok: false, reason: `error ${reply.error.code} ${reply.error.message}` });
      if (reply.id === 1) {
        if (!reply.connect) return finish({ ok: false, reason: 'connect reply without result' });
        socket.write(text({ id: 2, subscribe: { channel } }));
      } else if (reply.id === 2) {
        finish(reply.subscribe ? { ok: true } : { ok: false, reason: 'subscribe reply without result' });
      }
    };

    /** Consumes the whole frames in `buffered` (a partial one waits for more data). */
    const readFrames = (): void => {
      while (!settled && buffered.length >= 2) {
        const b0 = buffered[0] as number;
        let length = (buffered[1] as number) & 0x7f;
        let offset = 2;
        if (length === 126) {
          if (buffered.length < 4) return;
          length = buffered.readUInt16BE(2);
          offset = 4;
        } else if (length === 127) {
          if (buffered.length < 10) return;
          length = Number(buffered.readBigUInt64BE(2));
          offset = 10;
        }
        if (buffered.length < offset + length) return;
        const payload = buffered.subarray(offset, offset + length);
        buffered = buffered.subarray(offset + length);
        const opcode = b0 & 0x0f;
        if ((b0 & 0x80) === 0) return finish({ ok: false, reason: 'fragmented frame' });
        if (opcode === 0x8) return finish({ ok: false, reason: `closed ${payload.length >= 2 ? payload.readUInt16BE(0) : ''} ${payload.subarray(2).toString()}` });
        if (opcode !== 0x1) continue;
        // One frame may hold several replies, one per line.
        for (const line of payload.toString().split('\n')) if (line !== '' && !settled) onReply(JSON.parse(line) as Reply);
      }
    };

    socket.once('connect', () => socket.write(upgrade));
    socket.on('data', (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      if (!upgraded) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) return;
        const status = buffered.subarray(0, buffered.indexOf('\r\n')).toString();
        if (!status.startsWith('HTTP/1.1 101')) return finish({ ok: false, reason: `upgrade answered ${status}` });
        upgraded = true;
        buffered = buffered.subarray(end + 4);
        socket.write(text({ id: 1, connect }));
      }
      readFrames();
    });
    socket.on('error', (err) => finish({ ok: false, reason: err.message }));
    socket.on('close', () => finish({ ok: false, reason: 'connection closed' }));
  });
}
