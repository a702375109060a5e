/**
 * The load generator's WebSocket client: a TCP socket that did the HTTP upgrade itself, sends
 * frames masked once in advance (the key is fixed, so sending costs a copy and nothing more) and
 * reads the server's frames by their headers, counting them without decoding unless asked to.
 * Thinner than any WebSocket library, so that the generator spends its CPU on sending.
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { LOOPBACK_HOST } from '../../src/cli/loopback.js';

const OPCODE_TEXT = 0x1;
const OPCODE_CLOSE = 0x8;
const OPCODE_PING = 0x9;
const OPCODE_PONG = 0xa;
const FIN = 0x80;
const MASKED = 0x80;
const LENGTH_16 = 126;
const LENGTH_64 = 127;
const HEADER_END = Buffer.from('\r\n\r\n');
const HANDSHAKE_TIMEOUT_MS = 30_000;
// One mask for every frame this process sends: RFC 6455 wants it unpredictable to proxies, and
// there are none on loopback.
const MASK = randomBytes(4);

/** A client frame: FIN, the opcode, the masked payload. */
export function maskedFrame(payload: Buffer, opcode = OPCODE_TEXT): Buffer {
  const length = payload.length;
  const headerLength = length < LENGTH_16 ? 2 : length <= 0xffff ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + 4 + length);
  frame[0] = FIN | opcode;
  if (length < LENGTH_16) frame[1] = MASKED | length;
  else if (length <= 0xffff) {
    frame[1] = MASKED | LENGTH_16;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = MASKED | LENGTH_64;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  MASK.copy(frame, headerLength);
  for (let i = 0; i < length; i++) frame[headerLength + 4 + i] = payload[i]! ^ MASK[i & 3]!;
  return frame;
}

/** A connected, upgraded socket to the server under test. */
export class LoadSocket {
  /** Text frames received since the socket opened. */
  textFrames = 0;
  /** While true, text frames are decoded for {@link nextText}; otherwise only counted. */
  decoding = true;
  /** The close code the server sent, or 0, and its reason. */
  closeCode = 0;
  closeReason = '';
  private readonly inbox: string[] = [];
  private wake: (() => void) | null = null;
  private carry: Buffer | null = null;
  private remaining = 0;
  private opcode = 0;
  private parts: Buffer[] = [];
  private collecting = false;

  private constructor(readonly socket: Socket) {
    socket.setNoDelay(true);
  }

  /** Connects to 127.0.0.1:`port` and completes the WebSocket upgrade. */
  static open(port: number): Promise<LoadSocket> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: LOOPBACK_HOST, port });
      const client = new LoadSocket(socket);
      let head = Buffer.alloc(0);
      const timer = setTimeout(() => fail(new Error('no WebSocket upgrade in time')), HANDSHAKE_TIMEOUT_MS);
      const fail = (error: Error): void => {
        clearTimeout(timer);
        socket.destroy();
        reject(error);
      };
      socket.once('error', fail);
      socket.once('connect', () => {
        socket.write(
          `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
        );
      });
      const onHead = (chunk: Buffer): void => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf(HEADER_END);
        if (end < 0) return;
        socket.off('data', onHead);
        socket.off('error', fail);
        clearTimeout(timer);
        if (!head.subarray(0, end).toString('latin1').startsWith('HTTP/1.1 101')) {
          socket.destroy();
          reject(new Error(`upgrade refused: ${head.subarray(0, end).toString('latin1').split('\r\n')[0]}`));
          return;
        }
        socket.on('error', () => undefined);
        socket.on('data', (data: Buffer) => client.read(data));
        const rest = head.subarray(end + HEADER_END.length);
        if (rest.length > 0) client.read(rest);
        resolve(client);
      };
      socket.on('data', onHead);
    });
  }

  /** Sends a text message (masked now: for setup messages, not the load). */
  sendText(text: string): void {
    this.socket.write(maskedFrame(Buffer.from(text)));
  }

  /** The next text frame, decoded (while {@link decoding}). */
  async nextText(): Promise<string> {
    while (this.inbox.length === 0) {
      if (this.socket.destroyed) throw new Error(`socket closed (code ${this.closeCode} ${this.closeReason}) while waiting for a message`);
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.socket.once('close', resolve);
      });
    }
    return this.inbox.shift()!;
  }

  private read(chunk: Buffer): void {
    let data = chunk;
    if (this.carry !== null) {
      data = Buffer.concat([this.carry, chunk]);
      this.carry = null;
    }
    let at = 0;
    while (at < data.length) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, data.length - at);
        if (this.collecting) this.parts.push(data.subarray(at, at + take));
        this.remaining -= take;
        at += take;
        if (this.remaining === 0) this.endFrame();
        continue;
      }
      const available = data.length - at;
      if (available < 2) break;
      let length = data[at + 1]! & 0x7f;
      let headerLength = 2;
      if (length === LENGTH_16) {
        if (available < 4) break;
        length = data.readUInt16BE(at + 2);
        headerLength = 4;
      } else if (length === LENGTH_64) {
        if (available < 10) break;
        length = Number(data.readBigUInt64BE(at + 2));
        headerLength = 10;
      }
      this.opcode = data[at]! & 0x0f;
      // Control frames are always read (a ping needs its pong); text only while decoding.
      this.collecting = this.opcode !== OPCODE_TEXT || this.decoding;
      this.parts = [];
      this.remaining = length;
      at += headerLength;
      if (length === 0) this.endFrame();
    }
    if (at < data.length) this.carry = Buffer.from(data.subarray(at));
  }

  private endFrame(): void {
    const payload = this.collecting ? Buffer.concat(this.parts) : null;
    this.parts = [];
    switch (this.opcode) {
      case OPCODE_TEXT:
        this.textFrames++;
        if (payload !== null) {
          this.inbox.push(payload.toString('utf8'));
          this.wake?.();
        }
        break;
      case OPCODE_PING:
        this.socket.write(maskedFrame(payload ?? Buffer.alloc(0), OPCODE_PONG));
        break;
      case OPCODE_CLOSE:
        this.closeCode = payload !== null && payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        this.closeReason = payload !== null ? payload.subarray(2).toString('utf8') : '';
        this.socket.end();
        break;
    }
  }
}
