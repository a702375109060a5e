// One upgraded client connection of the signaling server, spoken to in RFC 6455 frames directly
// on its TCP socket: frames are read by websocket-frames.ts and written into a slab shared by the
// server's sockets, so that relaying a message allocates nothing of its own and a socket's frames
// of one event-loop turn leave in one write. Node only.
import type { Socket } from 'node:net';
import { FrameReader, type FrameEvents } from './websocket-frames.js';

/** Where a socket is in its life, numbered as the WebSocket API numbers them. */
export const SocketState = { Open: 1, Closing: 2, Closed: 3 } as const;

/** What the owner of a {@link ServerWebSocket} hears; message() is called for every message, synchronously. */
export interface ServerSocketEvents {
  message(data: Buffer, start: number, end: number, binary: boolean): void;
  pong(): void;
  /** A breach of the protocol by the client; the socket is closing with `code`. */
  fault(code: number, reason: string): void;
  /** The socket has closed: the client's close code and reason, 1006 when it sent none. */
  closed(code: number, reason: string): void;
}

const OPCODE_TEXT = 0x81;
const OPCODE_CLOSE = 0x88;
const OPCODE_PING = 0x89;
const OPCODE_PONG = 0x8a;
const LENGTH_16 = 126;
const LENGTH_64 = 127;
const CLOSE_ABNORMAL = 1006;
const CLOSE_NO_STATUS = 1005;
// How long a socket waits for the client's close frame after sending its own before cutting it off.
const CLOSE_TIMEOUT_MS = 30_000;
const SLAB_BYTES = 64 * 1024;

/**
 * Memory for outgoing frames, shared by the sockets of one server. A frame is written into it once
 * and never changed; a socket sends the span its frames of a turn took, so writes need no copy.
 * A full slab is replaced, and freed once the writes that point into it are done.
 */
export class FrameSlab {
  buffer = Buffer.allocUnsafeSlow(SLAB_BYTES);
  used = 0;

  /** Makes room for `bytes` (in a new slab when this one is short of it). */
  reserve(bytes: number): void {
    if (this.buffer.length - this.used >= bytes) return;
    this.buffer = Buffer.allocUnsafeSlow(Math.max(SLAB_BYTES, bytes));
    this.used = 0;
  }
}

/** The size of a server frame's header (unmasked) for a payload of `length` bytes. */
function headerLength(length: number): number {
  return length < LENGTH_16 ? 2 : length <= 0xffff ? 4 : 10;
}

/** A client connection after the upgrade; see the file comment. */
export class ServerWebSocket {
  private state: number = SocketState.Open;
  private readonly reader: FrameReader;
  private closeSent = false;
  private closeReceived = false;
  private closeCode = CLOSE_ABNORMAL;
  private closeReason = '';
  private closeTimer: NodeJS.Timeout | undefined;
  // The span this socket's frames of the turn take in the slab, and earlier spans not yet written.
  private spanBuffer: Buffer | null = null;
  private spanStart = 0;
  private spanEnd = 0;
  private readonly spans: Buffer[] = [];
  private flushScheduled = false;
  private drained: (() => void) | null = null;
  // Set by start(), before the first byte is read.
  private events!: ServerSocketEvents;

  /**
   * @param maxMessageBytes the largest message the client may send (1009 past it).
   * @param maxPongQueueBytes past this many bytes queued to the client, pings go unanswered: a
   * client that pings without reading cannot make the server queue pongs without end.
   */
  constructor(
    readonly stream: Socket,
    private readonly slab: FrameSlab,
    maxMessageBytes: number,
    private readonly maxPongQueueBytes: number,
  ) {
    this.reader = new FrameReader(maxMessageBytes, this.frameEvents());
  }

  /** Where the socket is in its life: a {@link SocketState}. */
  get readyState(): number {
    return this.state;
  }

  /**
   * Starts reading the client, telling `events` what it does; `head`, what the client sent after
   * its upgrade request, is read before this returns.
   */
  start(events: ServerSocketEvents, head: Buffer): void {
    this.events = events;
    const { stream } = this;
    stream.setNoDelay(true);
    stream.setTimeout(0);
    stream.on('data', (chunk: Buffer) => {
      if (!this.reader.done) this.reader.read(chunk);
    });
    // The client has nothing more to send: answer in kind, whatever state the close handshake is in.
    stream.on('end', () => {
      this.state = SocketState.Closing;
      stream.end();
    });
    // A reset or a write after the end: the 'close' that follows reports it.
    stream.on('error', () => stream.destroy());
    stream.on('close', () => {
      clearTimeout(this.closeTimer);
      this.state = SocketState.Closed;
      events.closed(this.closeReceived ? this.closeCode : CLOSE_ABNORMAL, this.closeReceived ? this.closeReason : '');
    });
    // Read now, synchronously; a copy, as the reader unmasks in place and the HTTP parser gave a view.
    if (head.length > 0) this.reader.read(Buffer.from(head));
  }

  /**
   * Calls `drained` once the client has taken what is queued to it: at once when too little is
   * queued for the stream to report draining, else on its 'drain'. Called after the turn's frames
   * are written, so that they count.
   */
  whenDrained(drained: () => void): void {
    this.drained = drained;
    if (!this.flushScheduled) this.reportDrain();
  }

  private reportDrain(): void {
    const drained = this.drained;
    if (drained === null) return;
    this.drained = null;
    if (this.stream.writableNeedDrain) this.stream.once('drain', drained);
    else process.nextTick(drained);
  }

  private frameEvents(): FrameEvents {
    return {
      message: (data, start, end, binary) => {
        if (this.readyState === SocketState.Open) this.events.message(data, start, end, binary);
      },
      ping: (payload) => {
        // Answered at once, unless the client is not reading what it is sent.
        if (this.readyState !== SocketState.Open || this.queuedBytes > this.maxPongQueueBytes) return;
        const at = this.frameHeader(OPCODE_PONG, payload.length);
        payload.copy(this.slab.buffer, at);
      },
      pong: () => this.events.pong(),
      close: (code, reason) => {
        this.closeReceived = true;
        this.closeCode = code;
        this.closeReason = reason;
        // RFC 6455 section 5.5.1: answered with the same code; the server then ends the TCP connection.
        if (this.closeSent) this.stream.end();
        else this.sendClose(code, '');
      },
      fault: (code, reason) => {
        this.events.fault(code, reason);
        // The code alone goes to the client; the reason is the server's log's. RFC 6455 section
        // 7.1.7: a stream that broke the protocol cannot be read for the client's close frame, so
        // the connection is ended as soon as the close frame is out.
        if (this.readyState === SocketState.Open) this.sendClose(code, '');
        this.stream.end();
      },
    };
  }

  /** Bytes waiting to go out: in the kernel's view of the stream and in this turn's frames. */
  get queuedBytes(): number {
    return this.stream.writableLength + (this.spanEnd - this.spanStart);
  }

  /** Sends a text message, if the socket is open. */
  sendText(text: string): void {
    if (this.readyState !== SocketState.Open) return;
    const length = Buffer.byteLength(text);
    const at = this.frameHeader(OPCODE_TEXT, length);
    this.slab.buffer.write(text, at, length, 'utf8');
  }

  /**
   * Sends the text message `head` + `source[start, end)` + `tail` (one byte), written straight
   * into the outgoing frames: the relay's forwarding of a message with its id rewritten.
   */
  sendSpliced(head: Buffer, source: Buffer, start: number, end: number, tail: number): void {
    if (this.readyState !== SocketState.Open) return;
    const length = head.length + (end - start) + 1;
    const at = this.frameHeader(OPCODE_TEXT, length);
    const buffer = this.slab.buffer;
    head.copy(buffer, at);
    source.copy(buffer, at + head.length, start, end);
    buffer[at + length - 1] = tail;
  }

  /** Pings the client. */
  ping(): void {
    if (this.readyState === SocketState.Open) this.frameHeader(OPCODE_PING, 0);
  }

  /**
   * Starts the close handshake with `code` and `reason` (at most 123 bytes); the socket closes once
   * the client answers, or after a timeout. Does nothing once closing.
   */
  close(code: number, reason: string): void {
    if (this.readyState !== SocketState.Open) return;
    this.sendClose(code, reason);
  }

  /** Cuts the connection off at once, without a close frame. */
  terminate(): void {
    this.state = SocketState.Closing;
    this.stream.destroy();
  }

  /** Stops reading the client until {@link resume}. */
  pause(): void {
    this.stream.pause();
  }

  resume(): void {
    this.stream.resume();
  }

  private sendClose(code: number, reason: string): void {
    const reasonLength = Buffer.byteLength(reason);
    const at = this.frameHeader(OPCODE_CLOSE, code === CLOSE_NO_STATUS ? 0 : 2 + reasonLength);
    if (code !== CLOSE_NO_STATUS) {
      this.slab.buffer.writeUInt16BE(code, at);
      this.slab.buffer.write(reason, at + 2, reasonLength, 'utf8');
    }
    this.closeSent = true;
    this.state = SocketState.Closing;
    this.flush();
    if (this.closeReceived) this.stream.end();
    else this.closeTimer = setTimeout(() => this.stream.destroy(), CLOSE_TIMEOUT_MS);
  }

  /** Writes a frame header for `length` bytes of payload into the slab; returns where the payload goes. */
  private frameHeader(first: number, length: number): number {
    const header = headerLength(length);
    const size = header + length;
    const slab = this.slab;
    slab.reserve(size);
    const buffer = slab.buffer;
    const at = slab.used;
    // This turn's frames make one span while nothing else was written into the slab between them.
    if (this.spanBuffer !== buffer || this.spanEnd !== at) {
      if (this.spanBuffer !== null && this.spanEnd > this.spanStart) this.spans.push(this.spanBuffer.subarray(this.spanStart, this.spanEnd));
      this.spanBuffer = buffer;
      this.spanStart = at;
    }
    buffer[at] = first;
    if (length < LENGTH_16) {
      buffer[at + 1] = length;
    } else if (length <= 0xffff) {
      buffer[at + 1] = LENGTH_16;
      buffer.writeUInt16BE(length, at + 2);
    } else {
      buffer[at + 1] = LENGTH_64;
      buffer.writeUInt32BE(0, at + 2);
      buffer.writeUInt32BE(length, at + 6);
    }
    slab.used = at + size;
    this.spanEnd = at + size;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(flushSocket, this);
    }
    return at + header;
  }

  /** Writes every frame not yet written, in one write when they are one span. */
  flush(): void {
    this.flushScheduled = false;
    const { spans } = this;
    if (this.spanBuffer !== null && this.spanEnd > this.spanStart) spans.push(this.spanBuffer.subarray(this.spanStart, this.spanEnd));
    this.spanBuffer = null;
    this.spanStart = 0;
    this.spanEnd = 0;
    const { stream } = this;
    if (spans.length === 1 && !stream.destroyed) {
      stream.write(spans[0]!);
    } else if (spans.length > 1 && !stream.destroyed) {
      stream.cork();
      for (const span of spans) stream.write(span);
      stream.uncork();
    }
    spans.length = 0;
    this.reportDrain();
  }
}

function flushSocket(socket: ServerWebSocket): void {
  if (socket.readyState !== SocketState.Closed) socket.flush();
}
