// A WebSocket client for tests written on a bare TCP socket: it sends whatever bytes it is told
// (malformed frames, odd cuts, a hostile upgrade request) and reads the server's frames by hand.
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/** One frame from the server. */
export interface ServerFrame {
  fin: boolean;
  opcode: number;
  payload: Buffer;
}

// Generous: loopback answers in milliseconds, a loaded machine's up to seconds; this only bounds
// a test that would hang.
const WAIT_MS = 10_000;
const HEADER_END = '\r\n\r\n';

/** A masked client frame (a random mask per frame, as browsers and Godot's client send them). */
export function clientFrame(payload: Buffer | string, opcode = 0x1, fin = true): Buffer {
  const body = Buffer.from(payload);
  const length = body.length;
  const header = length < 126 ? Buffer.alloc(2) : length <= 0xffff ? Buffer.alloc(4) : Buffer.alloc(10);
  header[0] = (fin ? 0x80 : 0) | opcode;
  if (length < 126) header[1] = 0x80 | length;
  else if (length <= 0xffff) {
    header[1] = 0x80 | 126;
    header.writeUInt16BE(length, 2);
  } else {
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  const mask = randomBytes(4);
  for (let i = 0; i < length; i++) body[i] = body[i]! ^ mask[i & 3]!;
  return Buffer.concat([header, mask, body]);
}

/** A TCP connection to a WebSocket server, upgraded or not. */
export class TcpWebSocket {
  /** The upgrade response's head (status line and headers). */
  responseHead = '';
  private received = Buffer.alloc(0);
  private ended = false;
  private readonly waiters: (() => void)[] = [];

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      this.wake();
    });
    socket.on('close', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  /**
   * Connects to `port` on 127.0.0.1 and sends `request`, one byte per character (by default a
   * valid upgrade request, with `extraHeaders`); resolves once the response head has arrived.
   */
  static async open(port: number, options: { request?: string; extraHeaders?: string } = {}): Promise<TcpWebSocket> {
    const socket = connect({ host: '127.0.0.1', port });
    const client = new TcpWebSocket(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const request =
      options.request ??
      `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n${options.extraHeaders ?? ''}\r\n`;
    socket.write(Buffer.from(request, 'latin1'));
    await client.waitFor(() => client.received.includes(HEADER_END) || client.ended, 'the response');
    const end = client.received.indexOf(HEADER_END);
    if (end >= 0) {
      client.responseHead = client.received.subarray(0, end).toString('latin1');
      client.received = client.received.subarray(end + HEADER_END.length);
    }
    return client;
  }

  /** The bytes after the response head received so far (the body of a refusal). */
  get rest(): string {
    return this.received.toString('utf8');
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** The next frame from the server. */
  async nextFrame(): Promise<ServerFrame> {
    let frame: ServerFrame | null = null;
    await this.waitFor(() => (frame = this.takeFrame()) !== null || this.ended, 'a frame');
    if (frame === null) throw new Error('the connection closed instead of sending a frame');
    return frame;
  }

  /** Resolves once the server has closed the TCP connection. */
  async closedWithin(): Promise<void> {
    await this.waitFor(() => this.ended, 'the connection to close');
  }

  destroy(): void {
    this.socket.destroy();
  }

  private takeFrame(): ServerFrame | null {
    const bytes = this.received;
    if (bytes.length < 2) return null;
    if ((bytes[1]! & 0x80) !== 0) throw new Error('the server masked a frame');
    let length = bytes[1]! & 0x7f;
    let at = 2;
    if (length === 126) {
      if (bytes.length < 4) return null;
      length = bytes.readUInt16BE(2);
      at = 4;
    } else if (length === 127) {
      if (bytes.length < 10) return null;
      length = Number(bytes.readBigUInt64BE(2));
      at = 10;
    }
    if (bytes.length < at + length) return null;
    const frame = { fin: (bytes[0]! & 0x80) !== 0, opcode: bytes[0]! & 0x0f, payload: Buffer.from(bytes.subarray(at, at + length)) };
    this.received = bytes.subarray(at + length);
    return frame;
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  private async waitFor(ready: () => boolean, what: string): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`no ${what} within ${WAIT_MS} ms`)), WAIT_MS);
        const check = (): void => {
          if (ready()) resolve();
          else this.waiters.push(check);
        };
        check();
      });
    } finally {
      clearTimeout(timer);
    }
  }
}
