// The signaling client's WebSocket: its callbacks only queue, as the poll contract asks, and
// whatever they queue from the network is bounded. Browser-safe.
import { BoundedQueue } from '../transport/bounded-queue.js';
import { RtcError } from '../transport/index.js';
import type { ClientSettings, WebSocketLike } from './client-options.js';
import { CLOSE_PROTOCOL_ERROR, type SignalingMessage, encodeMessage } from './protocol.js';

/** How a socket ended: its close code and reason. */
export interface SocketEnding {
  code: number;
  reason: string;
}

const WEB_SOCKET_OPEN = 1;
const CLOSE_ABNORMAL = 1006;
// RFC 6455 §5.5: a close reason fits 123 bytes; WebSocket implementations throw on a longer one.
// Every reason given here is ASCII, so characters are bytes.
const MAX_CLOSE_REASON_LENGTH = 123;

type SocketLimits = Pick<ClientSettings, 'url' | 'WebSocket' | 'maxFrameBytes' | 'maxQueuedMessages' | 'maxQueuedBytes'>;

/**
 * A WebSocket to the signaling server whose callbacks only queue: the frames received, and how
 * the socket ended. More than the limits allow between two reads closes it with 4000.
 */
export class SignalingSocket {
  private readonly socket: WebSocketLike;
  private readonly frames: BoundedQueue<string>;
  private ended: SocketEnding | null = null;
  private errorText: string | null = null;
  // Set by close(): the owner has let go, and the callbacks change nothing.
  private released = false;

  /**
   * Opens the socket and sends `greeting` once it is open.
   * @throws RtcError ERR_INVALID_PARAMETER when the WebSocket refuses the URL.
   */
  constructor(
    private readonly limits: SocketLimits,
    greeting: SignalingMessage,
  ) {
    this.socket = openWebSocket(limits);
    this.frames = new BoundedQueue(limits.maxQueuedBytes);
    this.socket.onopen = (): void => {
      // Sent at once, not at the next poll(): the server closes a socket that has not joined
      // within a second, and a game may not poll while it loads.
      if (this.listening()) this.send(greeting);
    };
    this.socket.onmessage = (event: unknown): void => {
      if (this.listening()) this.queue((event as { data?: unknown }).data);
    };
    this.socket.onerror = (event: unknown): void => {
      // An error is always followed by a close, which reports it.
      if (this.listening()) this.errorText ??= describeError(event);
    };
    this.socket.onclose = (event: unknown): void => {
      if (!this.listening()) return;
      const { code, reason } = event as { code?: unknown; reason?: unknown };
      this.ended = {
        code: typeof code === 'number' ? code : CLOSE_ABNORMAL,
        reason: typeof reason === 'string' && reason !== '' ? reason.slice(0, MAX_CLOSE_REASON_LENGTH) : (this.errorText ?? ''),
      };
    };
  }

  /** How the socket ended, once it has; null while it is open. Read it after the frames. */
  get ending(): SocketEnding | null {
    return this.ended;
  }

  /** Makes the frames received so far readable; later ones wait for the next call. */
  commit(): void {
    this.frames.commit();
  }

  /** The oldest readable frame, removed; undefined when none is left. */
  nextFrame(): string | undefined {
    return this.frames.shift();
  }

  /** Sends a message if the socket is open; otherwise it is dropped, as the server would never see it. */
  send(message: SignalingMessage): void {
    if (this.socket.readyState === WEB_SOCKET_OPEN && this.listening()) this.socket.send(encodeMessage(message));
  }

  /** Closes the socket and drops what is queued; nothing the socket reports after counts. */
  close(code: number, reason: string): void {
    this.released = true;
    this.frames.clear();
    this.socket.close(code, reason.slice(0, MAX_CLOSE_REASON_LENGTH));
  }

  private listening(): boolean {
    return !this.released && this.ended === null;
  }

  private queue(data: unknown): void {
    const { maxFrameBytes, maxQueuedMessages, maxQueuedBytes } = this.limits;
    if (typeof data !== 'string') {
      this.refuse('binary frame; frames must be JSON text');
    } else if (data.length > maxFrameBytes) {
      // parseFrame checks the UTF-8 size exactly; a frame this long in characters is at least as
      // long in bytes, and need not wait in memory to be refused.
      this.refuse(`frame of over ${maxFrameBytes} bytes`);
    } else if (this.frames.length >= maxQueuedMessages || !this.frames.push(data, data.length)) {
      this.refuse(`over ${maxQueuedMessages} frames or ${maxQueuedBytes} characters queued between two polls`);
    }
  }

  /** Ends the socket over a fault found in a callback; the frames before it are still read. */
  private refuse(reason: string): void {
    this.ended = { code: CLOSE_PROTOCOL_ERROR, reason };
    this.socket.close(CLOSE_PROTOCOL_ERROR, reason);
  }
}

function openWebSocket({ WebSocket, url }: SocketLimits): WebSocketLike {
  try {
    return new WebSocket(url);
  } catch (error) {
    throw new RtcError('ERR_INVALID_PARAMETER', `cannot open a WebSocket to ${url}: ${messageOf(error)}`);
  }
}

/** The text of a socket error event: `ws` gives one; a browser's error event carries none. */
function describeError(event: unknown): string {
  const message = (event as { message?: unknown } | null)?.message;
  return typeof message === 'string' && message !== '' ? message.slice(0, MAX_CLOSE_REASON_LENGTH) : 'WebSocket error';
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
