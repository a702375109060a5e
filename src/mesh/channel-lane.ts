import { BoundedQueue } from '../transport/bounded-queue.js';
import type { DataChannel, PeerConnection } from '../transport/index.js';
import { type ChannelSpec, channelOptions } from './channel-layout.js';
import { headerSize, sequenceAfter } from './framing.js';
import { TransferMode } from './multiplayer-constants.js';
import { OutgoingRecords } from './outgoing-records.js';
import type { ChannelStats } from './peer-stats.js';
import { ReliableLog } from './reliable-log.js';

/** A received message's records not yet delivered: from the record that starts at byte `from` on. */
export interface ParkedMessage {
  message: Uint8Array;
  from: number;
}

/** How far the engine's figure of a lane may be counted up before it is read again. */
export const ENGINE_READ_BYTES = 16 * 1024;

/**
 * Flushes in a row that hand a lane nothing before its engine figure is read to fall back: a game
 * that calls flush() at the end of its frame has poll() flush again, with nothing new, at the
 * start of the next, and reading at every such flush was a native call per peer per frame.
 */
export const QUIET_FLUSHES_BEFORE_READ = 2;

/**
 * The state of one channel with one peer: what waits to be sent and what waits to be read, the
 * sequence numbers and the counters. Only the lane changes them; its RemotePeer decides when.
 */
export class ChannelLane {
  readonly spec: ChannelSpec;
  /** Packets put and not yet handed to the engine. */
  readonly pending: OutgoingRecords;
  /** Packets received and not yet read. */
  readonly incoming: BoundedQueue<Uint8Array>;
  /** Reliable, with resumption on: what the peer has not acknowledged, for a new connection. */
  readonly log: ReliableLog | undefined;
  /** Deficit round robin's counter: the bytes the lane may still send in its turn (LaneScheduler owns it). */
  credit = 0;
  private readonly counters: ChannelStats;
  private channel: DataChannel;
  private nextSequence = 0;
  private lastSequence: number | undefined;
  private buffered = 0;
  private handedThisFlush = false;
  private quietFlushes = 0;
  private looked = false;
  private received = 0;
  private parkedMessage: ParkedMessage | undefined;

  constructor(spec: ChannelSpec, connection: PeerConnection, resumable: boolean, receiveLimitBytes: number) {
    this.spec = spec;
    this.channel = connection.createDataChannel(spec.label, channelOptions(spec.sctpId, spec.mode));
    this.log = resumable && spec.mode === TransferMode.Reliable ? new ReliableLog() : undefined;
    this.incoming = new BoundedQueue<Uint8Array>(receiveLimitBytes);
    this.pending = new OutgoingRecords(headerSize(spec.mode));
    this.counters = {
      transferChannel: spec.transferChannel,
      mode: spec.mode,
      sctpId: spec.sctpId,
      packetsSent: 0,
      bytesSent: 0,
      packetsReceived: 0,
      bytesReceived: 0,
      packetsDropped: 0,
    };
  }

  /** The lane's channel on the main connection. */
  get dataChannel(): DataChannel {
    return this.channel;
  }

  /**
   * What the engine holds of the lane, at most: read from it now and then, and counted up by
   * what the lane hands it in between (the engine only drains, never adds).
   */
  get engineBuffered(): number {
    return this.buffered;
  }

  /** Whether the current flush looks at the lane: it had something queued here or in the engine. */
  get touched(): boolean {
    return this.looked;
  }

  /** Reliable: messages received over the session, modulo 2^32, which the acknowledgements carry. */
  get receivedMessages(): number {
    return this.received;
  }

  /** Reliable and something to send: queued packets, or logged messages not yet on this connection. */
  isReliableWaiting(): boolean {
    return this.spec.mode === TransferMode.Reliable && (this.pending.count > 0 || this.log?.peekUnsent() !== undefined);
  }

  /** Moves the lane to a new connection's channel; the engine there holds nothing of it yet. */
  attach(connection: PeerConnection): void {
    this.channel = connection.createDataChannel(this.spec.label, channelOptions(this.spec.sctpId, this.spec.mode));
    this.buffered = 0;
    this.quietFlushes = 0;
  }

  /** Queues a packet of `size` bytes to send and counts it. */
  enqueue(packet: Uint8Array, size: number): void {
    this.pending.push(packet);
    this.counters.packetsSent++;
    this.counters.bytesSent += size;
  }

  /** Counts a packet put for the lane that could not be sent, or one received that was dropped. */
  countDrop(): void {
    this.counters.packetsDropped++;
  }

  /**
   * Starts a flush: the lane is looked at when it has something queued, something left in the
   * engine (so that its figure drains too) or, resumed, something to resend from its log.
   */
  beginFlush(): boolean {
    this.looked = this.pending.count > 0 || this.buffered > 0 || this.isReliableWaiting();
    this.handedThisFlush = false;
    return this.looked;
  }

  /** Counts bytes handed to the engine on this lane. */
  handed(bytes: number): void {
    this.buffered += bytes;
    this.handedThisFlush = true;
  }

  /**
   * Ends the flush of a lane looked at. The engine's figure is read from the channel the lane sent
   * on only when the bound has grown past {@link ENGINE_READ_BYTES}, or once the lane has gone
   * quiet for {@link QUIET_FLUSHES_BEFORE_READ} flushes (so that it falls back to 0): a native call
   * per lane per flush was a server's largest cost after the sends themselves.
   */
  endFlush(channel: DataChannel): void {
    if (this.handedThisFlush) {
      this.quietFlushes = 0;
      if (this.buffered > ENGINE_READ_BYTES) this.buffered = channel.getBufferedAmount();
    } else if (this.buffered > 0 && ++this.quietFlushes >= QUIET_FLUSHES_BEFORE_READ) {
      this.buffered = channel.getBufferedAmount();
    }
  }

  /** Reads what the engine holds of the lane now. */
  readEngine(channel: DataChannel): number {
    this.buffered = channel.getBufferedAmount();
    return this.buffered;
  }

  /** The sequence number of the next unreliable message. */
  takeSequence(): number {
    return this.nextSequence++;
  }

  /** Counts a message received on a reliable lane, for the acknowledgements. */
  countReliableMessage(): void {
    this.received = (this.received + 1) >>> 0;
  }

  /** UnreliableOrdered: whether a message's sequence comes after the last delivered, which it then becomes. */
  acceptSequence(sequence: number): boolean {
    if (this.lastSequence !== undefined && !sequenceAfter(sequence, this.lastSequence)) return false;
    this.lastSequence = sequence;
    return true;
  }

  /** Queues a received packet for reading; false when the receive queue is full. */
  deliver(packet: Uint8Array): boolean {
    // `length`, not byteLength: the same for a Uint8Array, and a field read in Node's V8.
    const size = packet.length;
    if (!this.incoming.push(packet, size)) return false;
    this.counters.packetsReceived++;
    this.counters.bytesReceived += size;
    return true;
  }

  /** A copy of the counters. */
  stats(): ChannelStats {
    return { ...this.counters };
  }

  /** Drops the packets queued to send (the caller counts them). */
  clearPending(): void {
    this.pending.clear();
  }

  /**
   * Reliable: a message read from the channel whose records did not all fit the receive queue,
   * and the first not delivered yet. Its channel is not read again until they have gone.
   */
  get parked(): ParkedMessage | undefined {
    return this.parkedMessage;
  }

  /** Parks what is left of a message, or (undefined) says that nothing is parked any more. */
  park(parked: ParkedMessage | undefined): void {
    this.parkedMessage = parked;
  }

  /** Drops everything queued, in both directions. */
  clear(): void {
    this.pending.clear();
    this.incoming.clear();
    this.parkedMessage = undefined;
  }
}
