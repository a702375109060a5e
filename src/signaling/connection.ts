// One WebSocket of the signaling server: its frames read into messages under a token-bucket rate
// limit, its JOIN deadline, its ping state and how it ended.
import { WebSocket, type RawData } from 'ws';
import type { Lobby } from './lobby.js';
import {
  CLOSE_PROTOCOL_ERROR,
  encodeMessage,
  parseFrame,
  type ParseResult,
  type SignalingMessage,
} from './protocol.js';
import type { ServerSettings } from './server-options.js';

// RFC 6455 §5.5: a control frame's payload is at most 125 bytes, 2 of them the code; ws throws
// on a longer reason.
const MAX_CLOSE_REASON_BYTES = 123;
const MS_PER_SECOND = 1000;

/** The close code and reason a socket ended with, and whether the server ended it. */
export interface ConnectionEnding {
  code: number;
  reason: string;
  byServer: boolean;
}

/** One WebSocket and what the server knows of it. */
export class Connection {
  lobby: Lobby | null = null;
  peerId = 0;
  readonly closed: Promise<void>;
  readonly markClosed: () => void;
  /** Set once the server has decided to end the socket: later frames are ignored. */
  private serverClose: { code: number; reason: string } | null = null;
  /** ws's message when it ended the socket over a WebSocket-level fault. */
  private transportFault: string | null = null;
  private answeredPing = true;
  private joinTimer: NodeJS.Timeout | undefined;
  private messageTokens: number;
  private tokensCountedAt = performance.now();

  constructor(
    readonly serial: number,
    readonly socket: WebSocket,
    readonly remoteAddress: string,
    private readonly limits: Pick<ServerSettings, 'messagesPerSecond' | 'messageBurst' | 'maxFrameBytes'>,
  ) {
    let markClosed = (): void => undefined;
    this.closed = new Promise((resolve) => (markClosed = resolve));
    this.markClosed = markClosed;
    this.messageTokens = limits.messageBurst;
    socket.on('pong', () => {
      this.answeredPing = true;
    });
    // ws closes the socket itself after a WebSocket-level fault (1009 too big, 1007 bad UTF-8);
    // keep its message as the close reason for the log.
    socket.on('error', (error) => {
      this.transportFault ??= error.message;
    });
  }

  /** True once the server has decided to end the socket. */
  get endingByServer(): boolean {
    return this.serverClose !== null;
  }

  /**
   * Reads one frame into a message, or into the close code and reason of its fault: over the
   * rate limit, binary, or refused by parseFrame.
   */
  readFrame(data: RawData, isBinary: boolean): ParseResult {
    if (!this.takeMessageToken()) {
      return { ok: false, code: CLOSE_PROTOCOL_ERROR, reason: 'rate limit exceeded' };
    }
    if (isBinary) {
      return { ok: false, code: CLOSE_PROTOCOL_ERROR, reason: 'binary frame; frames must be JSON text' };
    }
    // ws delivers a Buffer (binaryType 'nodebuffer', its default), even for a fragmented message.
    return parseFrame((data as Buffer).toString('utf8'), this.limits.maxFrameBytes);
  }

  /** Sends a message if the socket is still open. */
  send(message: SignalingMessage): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(encodeMessage(message));
  }

  /** Calls `onTimeout` unless {@link stopJoinTimer} is called within `timeoutMs`. */
  startJoinTimer(timeoutMs: number, onTimeout: () => void): void {
    this.joinTimer = setTimeout(onTimeout, timeoutMs);
  }

  /** Cancels the JOIN deadline: the socket has joined, or is ending. */
  stopJoinTimer(): void {
    clearTimeout(this.joinTimer);
  }

  /** Pings the socket; false, without a ping, when it has not answered the previous one. */
  ping(): boolean {
    if (!this.answeredPing) return false;
    this.answeredPing = false;
    this.socket.ping();
    return true;
  }

  /** Records that the server ends this socket; false if it is already ended or not open. */
  markEndedByServer(code: number, reason: string): boolean {
    if (this.serverClose !== null || this.socket.readyState !== WebSocket.OPEN) return false;
    this.serverClose = { code, reason };
    this.stopJoinTimer();
    return true;
  }

  /** Sends the close frame, with the reason cut to fit it. */
  sendClose(code: number, reason: string): void {
    this.socket.close(code, truncateReason(reason));
  }

  /** How the socket ended, given the code and reason of its close event. */
  ending(code: number, reason: string): ConnectionEnding {
    if (this.serverClose !== null) return { ...this.serverClose, byServer: true };
    if (this.transportFault !== null) return { code, reason: this.transportFault, byServer: true };
    return { code, reason, byServer: false };
  }

  /** Token bucket: false when the socket has used up its burst and the refill since. */
  private takeMessageToken(): boolean {
    const now = performance.now();
    const refill = ((now - this.tokensCountedAt) / MS_PER_SECOND) * this.limits.messagesPerSecond;
    this.messageTokens = Math.min(this.limits.messageBurst, this.messageTokens + refill);
    this.tokensCountedAt = now;
    if (this.messageTokens < 1) return false;
    this.messageTokens -= 1;
    return true;
  }
}

/** Reasons quote network values (a lobby name, an id); keep them within a close frame. */
function truncateReason(reason: string): string {
  const bytes = Buffer.from(reason, 'utf8');
  return bytes.length <= MAX_CLOSE_REASON_BYTES
    ? reason
    : bytes.subarray(0, MAX_CLOSE_REASON_BYTES).toString('utf8').replace(/\uFFFD$/, '');
}
