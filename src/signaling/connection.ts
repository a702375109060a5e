// One WebSocket of the signaling server: its frames checked under a token-bucket rate limit, its
// JOIN deadline, its ping state and how it ended.
import type { Lobby } from './lobby.js';
import type { Member } from './member.js';
import { encodeMessage, MESSAGE_TYPE_COUNT, type SignalingMessage } from './protocol.js';
import type { CloseCause, ServerCounters } from './server-counters.js';
import type { ServerSettings } from './server-options.js';
import { type ServerWebSocket, SocketState } from './server-websocket.js';

// RFC 6455 §5.5: a control frame's payload is at most 125 bytes, 2 of them the code.
const MAX_CLOSE_REASON_BYTES = 123;
const MS_PER_SECOND = 1000;
const CLOSE_BRACE = 0x7d;

/** The close code and reason a socket ended with, whether the server ended it, and why. */
export interface ConnectionEnding {
  code: number;
  reason: string;
  byServer: boolean;
  cause: CloseCause;
}

/** Why a frame closes its sender before it is even read. */
export interface FrameFault {
  reason: string;
  cause: CloseCause;
}

/** One WebSocket and what the server knows of it. */
export class Connection implements Member {
  lobby: Lobby | null = null;
  peerId = 0;
  readonly closed: Promise<void>;
  readonly markClosed: () => void;
  /** Set once the server has decided to end the socket: later frames are ignored. */
  private serverClose: { code: number; reason: string; cause: CloseCause } | null = null;
  /** Why the socket ended over a WebSocket-level fault of the client. */
  private transportFault: string | null = null;
  private answeredPing = true;
  private joinTimer: NodeJS.Timeout | undefined;
  private messageTokens: number;
  private tokensCountedAt = performance.now();
  // Members whose reading is paused until this socket's queue drains, and whether this one is.
  private readonly heldSenders = new Set<Connection>();
  private held = false;
  // `{"type":T,"id":<this peer>,"data":` for each relayed type, made once the peer id is known.
  private relayHeads: Buffer[] | null = null;

  constructor(
    readonly serial: number,
    readonly socket: ServerWebSocket,
    readonly remoteAddress: string,
    private readonly limits: Pick<ServerSettings, 'messagesPerSecond' | 'messageBurst' | 'maxFrameBytes' | 'maxSendQueueBytes'>,
    private readonly counters: ServerCounters,
  ) {
    let markClosed = (): void => undefined;
    this.closed = new Promise((resolve) => (markClosed = resolve));
    this.markClosed = markClosed;
    this.messageTokens = limits.messageBurst;
  }

  /** The client answered a ping. */
  pong(): void {
    this.answeredPing = true;
  }

  /**
   * The socket closes itself after a WebSocket-level fault (1009 too big, 1007 bad UTF-8, 1002);
   * its reason is kept for the log.
   */
  recordFault(reason: string): void {
    this.transportFault ??= reason;
  }

  /** True once the server has decided to end the socket. */
  get endingByServer(): boolean {
    return this.serverClose !== null;
  }

  /**
   * Checks one frame before it is read: within the rate limit, text, within maxFrameBytes. Counts
   * its bytes. Returns the fault that closes the sender, or null.
   */
  checkFrame(length: number, isBinary: boolean): FrameFault | null {
    this.counters.bytesReceived += length;
    if (!this.takeMessageToken()) return { reason: 'rate limit exceeded', cause: 'rate_limit' };
    if (isBinary) return { reason: 'binary frame; frames must be JSON text', cause: 'bad_frame' };
    const { maxFrameBytes } = this.limits;
    if (length > maxFrameBytes) {
      return { reason: `frame of ${length} bytes exceeds the limit of ${maxFrameBytes}`, cause: 'bad_frame' };
    }
    return null;
  }

  /** Sends a message if the socket is still open. */
  send(message: SignalingMessage): void {
    if (this.socket.readyState === SocketState.Open) this.sendText(encodeMessage(message));
  }

  /** Sends a message already encoded (one relayed from another node) if the socket is still open. */
  sendText(text: string): void {
    if (this.socket.readyState !== SocketState.Open) return;
    this.counters.bytesSent += Buffer.byteLength(text);
    this.socket.sendText(text);
  }

  /**
   * Forwards a relayed message from this connection's peer to `destination`: the sender's id
   * goes in front of `data[start, end)`, the JSON string literal of the received frame, copied
   * as it is straight into the destination's outgoing frames.
   */
  relayTo(destination: Connection, type: number, data: Buffer, start: number, end: number): void {
    const socket = destination.socket;
    if (socket.readyState !== SocketState.Open) return;
    const head = this.relayHead(type);
    destination.counters.bytesSent += head.length + (end - start) + 1;
    socket.sendSpliced(head, data, start, end, CLOSE_BRACE);
    // A destination that reads slower than it is sent to slows its senders down instead of
    // queueing without end: they are read again once its queue has drained.
    if (socket.queuedBytes > this.limits.maxSendQueueBytes) destination.hold(this);
  }

  /** Resumes every member held for this socket's queue; when it drains, or when it has closed. */
  readonly releaseSenders = (): void => {
    for (const sender of this.heldSenders) {
      sender.held = false;
      sender.socket.resume();
    }
    this.heldSenders.clear();
  };

  private hold(sender: Connection): void {
    if (sender.held) return;
    sender.held = true;
    sender.socket.pause();
    if (this.heldSenders.size === 0) this.socket.whenDrained(this.releaseSenders);
    this.heldSenders.add(sender);
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
    // A socket held for a slow destination is not being read: its pong may be waiting unread.
    if (this.held) this.answeredPing = true;
    if (!this.answeredPing) return false;
    this.answeredPing = false;
    this.socket.ping();
    return true;
  }

  /** Records that the server ends this socket; false if it is already ended or not open. */
  markEndedByServer(code: number, reason: string, cause: CloseCause): boolean {
    if (this.serverClose !== null || this.socket.readyState !== SocketState.Open) return false;
    this.serverClose = { code, reason, cause };
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
    if (this.transportFault !== null) return { code, reason: this.transportFault, byServer: true, cause: 'bad_frame' };
    return { code, reason, byServer: false, cause: 'client' };
  }

  private relayHead(type: number): Buffer {
    if (this.relayHeads === null) {
      this.relayHeads = Array.from({ length: MESSAGE_TYPE_COUNT }, (_, messageType) =>
        Buffer.from(`{"type":${messageType},"id":${this.peerId},"data":`),
      );
    }
    return this.relayHeads[type]!;
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
