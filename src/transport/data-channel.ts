import type { BackendChannel } from './backend.js';
import { BoundedQueue } from './bounded-queue.js';
import { RtcError } from './errors.js';
import { ChannelState, WriteMode } from './states.js';

/** Godot's answer for a reliability option that was not set. */
export const UNSET_RELIABILITY = 65535;

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

/**
 * What the owning connection hears from a channel: that it has news for the connection's next
 * poll, and that it is gone and may be forgotten.
 */
export interface DataChannelOwner {
  channelDue(channel: DataChannel): void;
  channelClosed(channel: DataChannel): void;
}

/**
 * One data channel of a {@link PeerConnection}: Godot's `WebRTCDataChannel` with its `PacketPeer`
 * methods. Packets that arrive queue, up to a byte limit, and become readable with `getPacket()`
 * after the next `poll()`; the ready state likewise answers as of the last `poll()`.
 */
export class DataChannel {
  /** Godot `write_mode`: whether `putPacket` sends text or binary messages. */
  writeMode: WriteMode = WriteMode.Binary;

  private readyState = ChannelState.Connecting;
  private engineState = ChannelState.Connecting;
  private readonly received: BoundedQueue<Uint8Array | string>;
  private lastWasString = false;
  private droppedPackets = 0;
  private maxPacketSize: number;
  private id: number;
  /**
   * Whether the connection's next poll must poll this channel: news from the engine (a message,
   * opening, closing) since its last poll, or the channel still opening (an engine may tell that
   * only when asked). A server's connection polls only these, not every channel of every client.
   */
  private due = true;

  /** @internal Made by `PeerConnection.createDataChannel` or on a channel the remote opened. */
  constructor(
    private readonly engine: BackendChannel,
    private readonly owner: DataChannelOwner,
    receiveLimitBytes: number,
    maxPacketSize: number,
  ) {
    this.received = new BoundedQueue(receiveLimitBytes);
    this.maxPacketSize = maxPacketSize;
    this.id = engine.info.id ?? -1;
    engine.setHandlers({
      open: () => {
        if (this.engineState !== ChannelState.Connecting) return;
        this.engineState = ChannelState.Open;
        // Read now, while the engine's channel is alive: its getters throw once it is destroyed.
        this.id = engine.currentId();
        this.maxPacketSize = Math.min(this.maxPacketSize, engine.maxMessageSize());
        this.becomeDue();
      },
      closed: () => {
        this.engineState = ChannelState.Closed;
        this.becomeDue();
      },
      message: (data) => {
        if (this.engineState === ChannelState.Closed) return;
        // A JavaScript string holds two bytes a character; a Uint8Array's length is its byteLength,
        // which Node's V8 reads through a call of the generic property load.
        const size = typeof data === 'string' ? data.length * 2 : data.length;
        if (!this.received.push(data, size)) this.droppedPackets++;
        this.becomeDue();
      },
    });
  }

  /** Godot `poll`: makes what arrived since the last poll readable and updates the ready state. */
  poll(): void {
    if (this.readyState === ChannelState.Closed) return;
    this.engine.poll();
    this.received.commit();
    this.readyState = this.engineState;
    if (this.readyState === ChannelState.Closed) this.owner.channelClosed(this);
  }

  /** @internal The connection's poll of a channel that was due: due again only while it opens. */
  pollDue(): void {
    this.due = false;
    this.poll();
    if (this.readyState === ChannelState.Connecting) this.becomeDue();
  }

  /**
   * Godot `put_packet`: sends one message, as text when `writeMode` is Text. Returns false when
   * the channel closed since the last poll (a condition of the network, not misuse).
   * @throws RtcError ERR_UNCONFIGURED unless the channel is open; ERR_INVALID_PARAMETER for a
   * packet over `getMaxPacketSize()`.
   */
  putPacket(packet: Uint8Array | string): boolean {
    if (this.readyState !== ChannelState.Open) {
      throw new RtcError(
        'ERR_UNCONFIGURED',
        `channel "${this.engine.info.label}" is ${ChannelState[this.readyState]}: send only once getReadyState() is Open.`,
      );
    }
    if (this.writeMode === WriteMode.Text) {
      const text = typeof packet === 'string' ? packet : textDecoder.decode(packet);
      this.checkSize(typeof packet === 'string' ? textEncoder.encode(text).byteLength : packet.byteLength);
      return this.engine.sendText(text);
    }
    const bytes = typeof packet === 'string' ? textEncoder.encode(packet) : packet;
    this.checkSize(bytes.byteLength);
    return this.engine.sendBinary(bytes);
  }

  /** Godot `get_packet`: the next readable packet's bytes, or null when there is none. */
  getPacket(): Uint8Array | null {
    const packet = this.received.shift();
    if (packet === undefined) return null;
    this.lastWasString = typeof packet === 'string';
    return typeof packet === 'string' ? textEncoder.encode(packet) : packet;
  }

  /** Godot `get_available_packet_count`: how many packets `getPacket()` can return now. */
  getAvailablePacketCount(): number {
    return this.received.readableCount;
  }

  /** Godot `was_string_packet`: whether the packet last read arrived as a text message. */
  wasStringPacket(): boolean {
    return this.lastWasString;
  }

  /** Godot `get_ready_state`, as of the last poll. */
  getReadyState(): ChannelState {
    return this.readyState;
  }

  /** Godot `get_label`. */
  getLabel(): string {
    return this.engine.info.label;
  }

  /** Godot `get_id`: the SCTP stream id, or -1 while an in-band channel has none yet. */
  getId(): number {
    return this.id;
  }

  /** Godot `is_ordered`. */
  isOrdered(): boolean {
    return this.engine.info.ordered;
  }

  /** Godot `get_max_packet_life_time`: milliseconds, or 65535 when not set. */
  getMaxPacketLifeTime(): number {
    return this.engine.info.maxPacketLifeTime ?? UNSET_RELIABILITY;
  }

  /** Godot `get_max_retransmits`: a count, or 65535 when not set. */
  getMaxRetransmits(): number {
    return this.engine.info.maxRetransmits ?? UNSET_RELIABILITY;
  }

  /** Godot `get_protocol`. */
  getProtocol(): string {
    return this.engine.info.protocol;
  }

  /** Godot `is_negotiated`. */
  isNegotiated(): boolean {
    return this.engine.info.negotiated;
  }

  /** Godot `get_buffered_amount`: bytes queued in the engine and not yet sent. */
  getBufferedAmount(): number {
    return this.readyState === ChannelState.Closed ? 0 : this.engine.bufferedAmount();
  }

  /** The largest packet `putPacket` accepts, as negotiated with the remote once open. */
  getMaxPacketSize(): number {
    return this.maxPacketSize;
  }

  /** rtcmesh: how many arriving packets were dropped because the receive queue was full. */
  getDroppedPacketCount(): number {
    return this.droppedPackets;
  }

  /** Godot `close`: closes the channel and drops what is queued; nothing is read after. */
  close(): void {
    if (this.readyState === ChannelState.Closed) return;
    this.readyState = ChannelState.Closed;
    this.engineState = ChannelState.Closed;
    this.received.clear();
    this.engine.close();
    this.owner.channelClosed(this);
  }

  private becomeDue(): void {
    if (this.due || this.readyState === ChannelState.Closed) return;
    this.due = true;
    this.owner.channelDue(this);
  }

  /** @internal Marks the channel closed when its connection closes, without touching the engine. */
  connectionClosed(): void {
    this.readyState = ChannelState.Closed;
    this.engineState = ChannelState.Closed;
    this.received.clear();
  }

  private checkSize(size: number): void {
    if (size > this.maxPacketSize) {
      throw new RtcError(
        'ERR_INVALID_PARAMETER',
        `packet of ${size} bytes is over this channel's maximum of ${this.maxPacketSize}: split it or send less.`,
      );
    }
  }
}
