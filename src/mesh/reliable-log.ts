/** What an acknowledgement from the peer says about a reliable channel's log. */
export type AckVerdict =
  /** It freed what it covers (possibly nothing). */
  | 'taken'
  /** It is older than one already taken: the system channel is unordered. */
  | 'old'
  /** It claims messages never sent: a lie, not a count. */
  | 'invalid';

/**
 * The reliable messages sent on one channel to one peer that the peer has not yet acknowledged,
 * oldest first, so that a new connection can resend them. Message `n` (counted from 0 over the
 * whole session, modulo 2^32) is the n-th message sent on the channel; the peer acknowledges how
 * many it has received. Holds copies: the engine's own buffers die with the connection.
 */
export class ReliableLog {
  private messages: Uint8Array[] = [];
  /** Index in `messages` of the oldest kept: acknowledged ones are reclaimed lazily. */
  private head = 0;
  /** Index in `messages` of the first not yet handed to the current connection. */
  private cursor = 0;
  /** The sequence number of `messages[head]`. */
  private firstSequence = 0;
  /** Bytes kept, acknowledged ones excluded. */
  bytes = 0;

  /** Messages kept (sent or not, unacknowledged). */
  get count(): number {
    return this.messages.length - this.head;
  }

  /** Keeps a message, to be handed to the connection in turn. The log owns `message`. */
  append(message: Uint8Array): void {
    this.messages.push(message);
    this.bytes += message.byteLength;
  }

  /** The next message not yet handed to the current connection, or undefined. */
  peekUnsent(): Uint8Array | undefined {
    return this.messages[this.cursor];
  }

  /** Marks the message `peekUnsent` returned as handed to the connection. */
  markSent(): void {
    this.cursor++;
  }

  /** Takes the peer's count of messages received: frees every message it covers. */
  acknowledge(received: number): AckVerdict {
    const covered = (received - this.firstSequence) >>> 0;
    if (covered > this.count) return ((this.firstSequence - received) | 0) > 0 ? 'old' : 'invalid';
    if (covered > this.cursor - this.head) return 'invalid';
    for (let n = 0; n < covered; n++) {
      this.bytes -= this.messages[this.head]!.byteLength;
      this.messages[this.head++] = EMPTY;
    }
    this.firstSequence = (this.firstSequence + covered) >>> 0;
    if (this.head > 64 && this.head * 2 > this.messages.length) {
      this.messages = this.messages.slice(this.head);
      this.cursor -= this.head;
      this.head = 0;
    }
    return 'taken';
  }

  /** A new connection: every kept message is to be handed to it again, oldest first. */
  rewind(): void {
    this.cursor = this.head;
  }
}

const EMPTY = new Uint8Array(0);
