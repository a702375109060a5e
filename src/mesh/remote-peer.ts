import { ChannelState, ConnectionState, type DataChannel, type PeerConnection } from '../transport/index.js';
import { type ChannelSpec, SYSTEM_CHANNEL_OPTIONS } from './channel-layout.js';
import { ChannelLane } from './channel-lane.js';
import {
  MAX_FRAMING_BYTES,
  type MessageHeader,
  RELIABLE_BATCH_BUDGET,
  RecordReader,
  SCTP_PAYLOAD_BUDGET,
  headerSize,
  readHeader,
  writeHeader,
} from './framing.js';
import { BYE_MESSAGE, decodeSystemMessage, encodePing, encodePong, isBye } from './system-messages.js';
import { ClockEstimator } from './clock.js';
import { LaneScheduler } from './lane-scheduler.js';
import type { MeshLimits } from './mesh-options.js';
import { DROP_REASONS, type DropReason, type PeerStats } from './peer-stats.js';
import { StateLink, mayCarryChannels } from './state-link.js';
import { TransferMode } from './multiplayer-constants.js';

/**
 * The most the reliable channels may have waiting in the engine's queue when the link drains all
 * of it between two flushes: a game that flushes once a frame would otherwise cap a reliable
 * transfer at 64 KiB a frame (4 MB/s at 60 Hz) whatever the link. The least is the backend's
 * `reliableQueueBytes` (libdatachannel: 64 KiB, where a longer reliable backlog holds other
 * channels behind it; what is beyond waits in rtcmesh's lanes, where priorities decide what goes
 * next). SCTP's send buffer below that queue (1 MiB, not counted in bufferedAmount) still does,
 * on a slow link: hence the state connection.
 */
export const MAX_RELIABLE_ENGINE_QUEUE_BYTES = 1024 * 1024;

/** How long a state connection may take to come up after the main one; past it, the peer does without. */
export const STATE_LINK_SETUP_MS = 5000;

/**
 * While this side sends the peer traffic of its own, which tells the peer it is alive, a ping goes
 * only every this many keepalive intervals and a fraction (see {@link busyPingIntervals}), for the
 * round trip, the clock offset and the acknowledgements: a 60 Hz server spent a third as long
 * sending keepalives as sending its states. Not before the clock estimate holds its full window of
 * samples (`CLOCK_SAMPLES`, 4 s at the default interval): on a jittery link the offset is as good
 * as the best of them, and with a quarter as many from the start the network time through a poor
 * link erred by more (p99 11 ms against 7, medians of six runs of the benchmark).
 */
export const BUSY_PING_INTERVALS = 4;

/** The fractional part of the golden ratio: consecutive ids times it fall evenly over 0 to 1. */
const GOLDEN_FRACTION = 0.6180339887498949;

/**
 * The keepalive intervals between a busy side's pings to one peer: {@link BUSY_PING_INTERVALS}
 * and a fraction below 1 that the two ids set. With one period for every peer, peers connected
 * in the same frame stayed in step for good: a 60 Hz server with 256 clients sent all 256 pings
 * in one poll every second (7 ms, delaying that tick's states), and answered its clients' in
 * another. Periods that differ move them apart within a few pings.
 */
export function busyPingIntervals(localId: number, remoteId: number): number {
  const spread = (localId + remoteId) * GOLDEN_FRACTION;
  return BUSY_PING_INTERVALS + (spread - Math.floor(spread));
}

/**
 * Reliable bytes received since the last ping past which the next ping is due at the plain
 * interval even while busy: with resumption on, the sender holds what it sent until the ping
 * acknowledges it, and its reliable limit (8 MiB by default) would cap a transfer at that much a second.
 */
export const ACK_DUE_BYTES = 1024 * 1024;

/** The most a 32-bit send stamp can say: ages are judged modulo 2^32 milliseconds. */
const STAMP_MODULO = 2 ** 32;

/** The scheduler's test of a lane, made once: flush() runs every frame. */
function isReliableWaiting(lane: ChannelLane): boolean {
  return lane.isReliableWaiting();
}

/**
 * One remote peer of a WebRTCMultiplayerPeer: its connection, its channels in the negotiated
 * layout, the keepalive, and the per-channel queues in both directions.
 */
export class RemotePeer {
  readonly lanes: ChannelLane[];
  /** The reliable lanes, in layout order: what a ping's acknowledgement counts. */
  private readonly reliableLanes: ChannelLane[];
  private readonly scheduler: LaneScheduler<ChannelLane>;
  readonly clock = new ClockEstimator();
  private currentConnection: PeerConnection;
  private system: DataChannel;
  /** Whether the peer has connected (peerConnected) and not been dropped since. */
  private isConnected = false;
  /** When the connection was last seen Disconnected, while it stays so; for the grace period. */
  private disconnectedSince: number | undefined;
  /**
   * When the link was lost while resumption is on: the session is held, its state kept, until a
   * new connection takes over or the grace ends. Undefined while the peer has a working link.
   */
  private heldSince: number | undefined;
  /** The held peer's loss has been announced (peerReconnecting). */
  private holdAnnounced = false;
  /**
   * On a new connection, reliable lanes send nothing until the peer's first acknowledgement on it
   * says where each resumes.
   */
  private awaitingResume = false;
  /** The peer's acknowledgement on a new connection did not match what is kept: it cannot resume. */
  private resumeFailed = false;
  /** Either side closed the connection on purpose (`close()` here, a goodbye from the peer): not to be held. */
  private leaving = false;
  /** This side sent the goodbye: closing the connection at once would discard it unsent. */
  private goodbyeSent = false;
  /** The state connection, with `stateConnection`; `linkUp` as of the last poll. */
  private link: StateLink | undefined;
  private linkUp = false;
  /** When the main connection was first seen ready, while the state connection is negotiated. */
  private mainReadyAt: number | undefined;
  /** The clock of the flush under way. */
  private flushedAt = 0;
  /**
   * What the reliable lanes may have waiting in the engine: doubled while the engine empties it
   * between flushes, cut back to twice what it drained between two flushes once it does not, so
   * that a keepalive never waits behind more than about two frames of reliable data.
   */
  private reliableAllowance: number;
  /** What the lanes sending on the main connection had in its engine as the last flush ended. */
  private mainQueuedAfterFlush = 0;
  /** Whether the last flush handed the engine all the room the allowance left. */
  private reliableFilled = false;
  /** Packets readable across every lane. */
  private readable = 0;
  /**
   * A reliable packet had to be dropped for want of room: the stream promised to the game is
   * broken, so the peer must go rather than carry on with a gap.
   */
  private reliableOverflow = false;
  private lastHeardAt: number;
  private lastPingAt = Number.NEGATIVE_INFINITY;
  private reliableBytesAtPing = 0;
  /** When this side last handed the peer a message other than a ping (a batch, an answer to a ping). */
  private lastSentAt = Number.NEGATIVE_INFINITY;
  private readonly dropped = Object.fromEntries(DROP_REASONS.map((reason) => [reason, 0])) as Record<DropReason, number>;
  private messagesSent = 0;
  private messagesReceived = 0;
  /** Bytes of reliable messages handed to the engine for the peer, and received from it. */
  private reliableBytesSent = 0;
  private reliableBytesReceived = 0;
  /** The most of `reliableBytesSent` the peer has reported receiving, in its keepalive messages. */
  private reliableBytesDelivered = 0;
  private readonly header: MessageHeader = { sentAt: 0, sequence: 0 };
  /** Keepalive intervals between pings while busy, for this pair of ids. */
  private readonly busyPingIntervals: number;
  private readonly records = new RecordReader();

  constructor(
    readonly id: number,
    connection: PeerConnection,
    layout: readonly ChannelSpec[],
    private readonly lifetimeMs: number,
    private readonly limits: MeshLimits,
    now: number,
    localId: number,
  ) {
    this.currentConnection = connection;
    this.busyPingIntervals = busyPingIntervals(localId, id);
    this.lastHeardAt = now;
    this.reliableAllowance = connection.reliableQueueBytes;
    this.system = connection.createDataChannel('system', SYSTEM_CHANNEL_OPTIONS);
    const resumable = limits.reconnectGraceMs > 0;
    this.lanes = layout.map((spec) => new ChannelLane(spec, connection, resumable, limits.receiveLimitBytes));
    this.reliableLanes = this.lanes.filter((lane) => lane.spec.mode === TransferMode.Reliable);
    this.scheduler = new LaneScheduler(this.lanes);
    if (limits.stateConnection) {
      // The side with the higher id offers the state connection.
      this.link = new StateLink(connection, localId > id, layout.filter((spec) => spec.mode !== TransferMode.Reliable));
    }
  }

  /** The connection the session runs on: a new one after `attach()`. */
  get connection(): PeerConnection {
    return this.currentConnection;
  }

  /** Whether the peer has connected (peerConnected was due) and has not been dropped since. */
  get connected(): boolean {
    return this.isConnected;
  }

  /** Packets readable across every lane. */
  get available(): number {
    return this.readable;
  }

  /** Whether the session is held, waiting for a new connection. */
  get held(): boolean {
    return this.heldSince !== undefined;
  }

  /** Whether this side sent a goodbye, which closing the connection at once would discard. */
  get saidGoodbye(): boolean {
    return this.goodbyeSent;
  }

  /**
   * Marks the peer connected once its connection and channels are ready, restarting the silence
   * clock. True when it has just connected.
   */
  connectIfReady(now: number): boolean {
    if (this.isConnected || !this.isReady()) return false;
    this.isConnected = true;
    this.lastHeardAt = now;
    return true;
  }

  /** Marks the peer dropped. True when it had connected, so that its loss is to be announced. */
  disconnect(): boolean {
    const was = this.isConnected;
    this.isConnected = false;
    return was;
  }

  /**
   * Whether the peer must be dropped or held: its connection or a channel closed, it stayed
   * Disconnected past the grace, it went silent, it sent more reliable data than this side may
   * hold unread, or either side said goodbye.
   */
  isLost(now: number): boolean {
    const state = this.currentConnection.getConnectionState();
    if (state === ConnectionState.Failed || state === ConnectionState.Closed) return true;
    if (state === ConnectionState.Disconnected) {
      this.disconnectedSince ??= now;
      if (now - this.disconnectedSince > this.limits.disconnectGraceMs) return true;
    } else {
      this.disconnectedSince = undefined;
    }
    if (this.hasClosedChannel() || this.reliableOverflow || this.leaving) return true;
    return this.isConnected && this.silentFor(now) > this.limits.keepaliveTimeoutMs;
  }

  /**
   * A lost peer's session is held when resumption is on, the peer had connected, its reliable
   * stream is whole and neither side said goodbye. True when it is now held.
   */
  holdIfResumable(now: number): boolean {
    if (this.limits.reconnectGraceMs === 0) return false;
    // A goodbye may wait unread behind the close it announced.
    this.receiveSystemFrom(this.system, now);
    if (!this.isConnected || this.reliableOverflow || this.leaving) return false;
    this.hold(now);
    return true;
  }

  /** True the first time it is asked after the hold began: peerReconnecting is then due. */
  announceHold(): boolean {
    if (this.holdAnnounced) return false;
    this.holdAnnounced = true;
    return true;
  }

  /** Whether the held session must be dropped: its grace ended, it cannot resume, or the peer said goodbye. */
  isHoldOver(now: number): boolean {
    return now - this.heldSince! > this.limits.reconnectGraceMs || this.resumeFailed || this.leaving;
  }

  /** Polls the connection and the state connection, moving traffic to the latter once it is up. */
  pollConnections(now: number): void {
    this.currentConnection.poll();
    if (!this.link) return;
    // A state connection that fails after it was up hands its traffic back to the main one.
    if (!this.link.failed) this.link.poll();
    this.linkUp = this.link.isUp();
    if (this.link.failed) return;
    if (this.linkUp || this.isConnected || !this.isMainReady()) return;
    // Negotiated before the peer counts as connected, while the main connection is still idle:
    // behind a reliable backlog, the negotiation itself would wait.
    this.mainReadyAt ??= now;
    if (now - this.mainReadyAt > STATE_LINK_SETUP_MS) this.link.close();
  }

  /** The channel a lane sends on now: the state connection's, for an unreliable lane once it is up. */
  private outChannel(lane: ChannelLane): DataChannel {
    if (this.linkUp && lane.spec.mode !== TransferMode.Reliable) return this.link!.channels.get(lane.spec.sctpId)!;
    return lane.dataChannel;
  }

  /**
   * Whether every channel, the system channel included, is open on a connection not lost; with a
   * state connection, once that is up too or has failed (the peer then does without it).
   */
  isReady(): boolean {
    return this.isMainReady() && (!this.link || this.link.failed || this.linkUp);
  }

  private isMainReady(): boolean {
    return (
      mayCarryChannels(this.currentConnection.getConnectionState()) &&
      this.system.getReadyState() === ChannelState.Open &&
      this.lanes.every((lane) => lane.dataChannel.getReadyState() === ChannelState.Open)
    );
  }

  /** Whether a channel has closed: the peer cannot be used any more. */
  hasClosedChannel(): boolean {
    if (this.system.getReadyState() === ChannelState.Closed) return true;
    for (const lane of this.lanes) if (lane.dataChannel.getReadyState() === ChannelState.Closed) return true;
    return false;
  }

  /** Milliseconds since anything arrived from the peer. */
  silentFor(now: number): number {
    return now - this.lastHeardAt;
  }

  /**
   * Queues a packet of `size` bytes for the lane (or sends it at once without batching). False,
   * counted, when refused: an unreliable packet to a silent or backed-up peer, a reliable one past
   * the limit.
   */
  put(laneIndex: number, packet: Uint8Array, size: number, now: number): boolean {
    const lane = this.lanes[laneIndex]!;
    if (size + MAX_FRAMING_BYTES > lane.dataChannel.getMaxPacketSize()) return this.drop(lane, 'tooLargeForPeer');
    if (lane.spec.mode === TransferMode.Reliable) {
      // With a log, everything sent and unacknowledged is held here: it counts against the limit.
      const held = lane.log ? lane.log.bytes : lane.engineBuffered;
      if (lane.pending.bytes + held + size > this.limits.reliableBufferLimitBytes) {
        return this.drop(lane, 'reliableLimit');
      }
    } else if (this.heldSince !== undefined) {
      return this.drop(lane, 'stale');
    } else if (this.silentFor(now) > this.limits.silenceThresholdMs) {
      return this.drop(lane, 'silentPeer');
    } else if (lane.pending.bytes + lane.engineBuffered > this.limits.unreliableBufferLimitBytes) {
      return this.drop(lane, 'sendBufferFull');
    }
    lane.enqueue(packet, size);
    if (!this.limits.batching) this.flush(now);
    return true;
  }

  /**
   * Sends queued packets, coalesced into as few messages as each lane's budget allows, lanes in
   * the scheduler's order: by priority, and by weight within one. Reliable lanes share the room
   * the engine queue leaves; what does not fit waits here for a later flush.
   */
  flush(now: number): void {
    if (this.heldSince !== undefined) return;
    let looked = false;
    let sending = false;
    let reliableWaiting = false;
    for (const lane of this.lanes) {
      if (!lane.beginFlush()) continue;
      looked = true;
      if (lane.isReliableWaiting()) reliableWaiting = true;
      else if (lane.pending.count > 0) sending = true;
    }
    if (!looked) return;
    // Nothing to send (a game's flush() at the end of its frame leaves poll() none): the lanes'
    // engine figures are only counted down.
    if (sending || reliableWaiting) this.send(reliableWaiting, now);
    else this.reliableFilled = false;
    for (const lane of this.lanes) if (lane.touched) lane.endFlush(this.outChannel(lane));
    this.mainQueuedAfterFlush = this.mainQueueBound();
  }

  /** Sends what the lanes have queued, in the scheduler's order: the sending part of flush(). */
  private send(reliableWaiting: boolean, now: number): void {
    const sentBefore = this.messagesSent;
    // On a new connection, reliable lanes wait for the peer to say where each resumes.
    let room = reliableWaiting && !this.awaitingResume ? this.reliableRoom() : 0;
    const roomAtStart = room;
    this.flushedAt = now;
    const { groups } = this.scheduler;
    for (let index = 0; index < groups.length; index++) {
      for (const lane of groups[index]!) if (lane.spec.mode !== TransferMode.Reliable && lane.pending.count > 0) this.sendLane(lane, Number.POSITIVE_INFINITY, now);
      if (room > 0) room = this.scheduler.share(index, room, isReliableWaiting, this.sendForScheduler);
    }
    if (this.messagesSent !== sentBefore) this.lastSentAt = now;
    // Filled: the lanes had more than the room (the scheduler stops once a lane's batch overruns it).
    this.reliableFilled = roomAtStart > 0 && room <= 0;
  }

  /**
   * Moves what the channels received into the lanes' queues, answering pings on the way.
   * Unreliable messages older than the lifetime, or (UnreliableOrdered) older than one already
   * delivered, are dropped and counted; so is anything malformed.
   */
  receive(now: number): void {
    this.receiveSystemFrom(this.system, now);
    if (this.link) this.receiveSystemFrom(this.link.system, now);
    if (!this.isConnected) return;
    for (const lane of this.lanes) {
      if (lane.spec.mode === TransferMode.Reliable && lane.dataChannel.getDroppedPacketCount() > 0) this.reliableOverflow = true;
      this.receiveFrom(lane, lane.dataChannel, now);
      const linked = this.link?.channels.get(lane.spec.sctpId);
      if (linked) this.receiveFrom(lane, linked, now);
    }
  }

  private receiveSystemFrom(channel: DataChannel, now: number): void {
    for (let message = channel.getPacket(); message; message = channel.getPacket()) {
      this.lastHeardAt = now;
      this.receiveSystem(message, now);
    }
  }

  private receiveFrom(lane: ChannelLane, channel: DataChannel, now: number): void {
    // A message that did not all fit goes on first; while it still does not, the rest waits in the channel.
    if (lane.parked && !this.deliverParked(lane)) return;
    for (let message = channel.getPacket(); message; message = channel.getPacket()) {
      this.lastHeardAt = now;
      this.messagesReceived++;
      if (lane.spec.mode === TransferMode.Reliable) {
        this.reliableBytesReceived += message.length;
        lane.countReliableMessage();
      }
      this.receiveMessage(lane, message, now);
      if (lane.parked) return;
    }
  }

  /** Delivers the rest of a parked message's records; false while they still do not all fit. */
  private deliverParked(lane: ChannelLane): boolean {
    const { message, from } = lane.parked!;
    // Checked when it was read: what is left from a record's start tiles the rest of it.
    this.records.start(message, from);
    return this.deliverRecords(lane, message);
  }

  /**
   * Queues the records `this.records` has left of `message` for reading. A reliable record that
   * does not fit while others wait to be read is parked with the rest of its message, to go on
   * once the game has read some: the channel's own queue holds what follows, so a batch of small
   * packets, which costs more in the receive queue than in the channel's, is not a broken stream.
   * Anything else that does not fit is dropped and counted; for a reliable record, the stream is
   * broken.
   */
  private deliverRecords(lane: ChannelLane, message: Uint8Array): boolean {
    const reliable = lane.spec.mode === TransferMode.Reliable;
    const records = this.records;
    lane.park(undefined);
    while (records.remaining > 0) {
      const from = records.position;
      if (lane.deliver(records.next())) {
        this.readable++;
        continue;
      }
      if (reliable && lane.incoming.length > 0) {
        lane.park({ message, from });
        records.stop();
        break;
      }
      this.drop(lane, 'receiveQueueFull');
      if (reliable) this.reliableOverflow = true;
    }
    lane.incoming.commit();
    return lane.parked === undefined;
  }

  /**
   * Sends a keepalive ping when one is due: every keepalive interval while this side sends the
   * peer nothing else or its clock estimate is not yet full, every {@link busyPingIntervals}
   * intervals otherwise.
   */
  keepAlive(now: number): void {
    const interval = this.limits.keepaliveIntervalMs;
    const sincePing = now - this.lastPingAt;
    if (sincePing < interval) return;
    const ackDue = this.reliableBytesReceived - this.reliableBytesAtPing >= ACK_DUE_BYTES;
    const busy = now - this.lastSentAt < interval && this.clock.settled;
    if (busy && sincePing < this.busyPingIntervals * interval && !ackDue) return;
    // A new connection's system channel opens after it connects: the first ping waits for it.
    if (this.systemOut().getReadyState() !== ChannelState.Open) return;
    this.lastPingAt = now;
    this.reliableBytesAtPing = this.reliableBytesReceived;
    // The ping tells the peer how many messages arrived on each reliable channel, so that it can free them.
    const counts = this.reliableLanes.map((lane) => lane.receivedMessages);
    this.sendSystem(encodePing(now, this.reliableBytesReceived, counts));
  }

  /**
   * The link is lost and resumption is on: closes the connection (and the state connection: a
   * resumed session does without one), keeps the session. Unreliable packets still queued are
   * stale by the time a new connection exists.
   */
  hold(now: number): void {
    this.heldSince ??= now;
    this.disconnectedSince = undefined;
    this.awaitingResume = true;
    for (const lane of this.lanes) {
      if (lane.spec.mode === TransferMode.Reliable) continue;
      for (let n = lane.pending.count; n > 0; n--) this.drop(lane, 'stale');
      lane.clearPending();
    }
    this.link?.close();
    this.link = undefined;
    this.linkUp = false;
    this.currentConnection.close();
  }

  /**
   * Takes a new connection for a held session, with the channels of the layout. Its per-connection
   * counts start again; the logs are resent once the peer's first acknowledgement on it arrives.
   */
  attach(connection: PeerConnection): void {
    if (this.currentConnection !== connection) this.currentConnection.close();
    this.currentConnection = connection;
    this.system = connection.createDataChannel('system', SYSTEM_CHANNEL_OPTIONS);
    for (const lane of this.lanes) lane.attach(connection);
    this.reliableAllowance = connection.reliableQueueBytes;
    this.disconnectedSince = undefined;
    this.reliableBytesSent = 0;
    this.reliableBytesReceived = 0;
    this.reliableBytesDelivered = 0;
    this.lastPingAt = Number.NEGATIVE_INFINITY;
    this.reliableBytesAtPing = 0;
    this.lastSentAt = Number.NEGATIVE_INFINITY;
  }

  /** Whether the held session's new connection is ready and the peer has said where to resume. */
  isResumed(): boolean {
    return this.isReady() && !this.awaitingResume;
  }

  /** Ends the hold: the session carries on over the new connection. */
  release(now: number): void {
    this.heldSince = undefined;
    this.holdAnnounced = false;
    this.lastHeardAt = now;
  }

  /** The next readable packet of the lowest lane that has one, removed; undefined when none. */
  shift(): Uint8Array | undefined {
    for (const lane of this.lanes) {
      const packet = lane.incoming.shift();
      if (packet !== undefined) {
        this.readable--;
        return packet;
      }
    }
    return undefined;
  }

  /** The lane `shift()` would read from next. */
  nextLane(): ChannelLane | undefined {
    return this.lanes.find((lane) => lane.incoming.readableCount > 0);
  }

  /** Counts a packet put for this peer that could not be sent. */
  drop(lane: ChannelLane | undefined, reason: DropReason): false {
    this.dropped[reason]++;
    lane?.countDrop();
    return false;
  }

  /**
   * Bytes waiting for the peer: queued here, and in the engine as of the last flush (nothing is
   * handed to the engine between flushes, so this is at most what it holds). No engine call.
   */
  get bufferedBytes(): number {
    let bytes = 0;
    for (const lane of this.lanes) bytes += lane.pending.bytes + lane.engineBuffered;
    return bytes;
  }

  /** A snapshot of the counters. */
  stats(now: number): PeerStats {
    let bufferedBytes = 0;
    let undeliveredBytes = this.reliableBytesSent - this.reliableBytesDelivered;
    let unacknowledgedBytes = 0;
    for (const lane of this.lanes) {
      bufferedBytes += lane.pending.bytes + this.outChannel(lane).getBufferedAmount();
      if (lane.spec.mode === TransferMode.Reliable) undeliveredBytes += lane.pending.bytes;
      unacknowledgedBytes += lane.log?.bytes ?? 0;
    }
    return {
      peerId: this.id,
      connected: this.isConnected,
      reconnecting: this.heldSince !== undefined,
      unacknowledgedBytes,
      rttMs: this.clock.rttMs,
      clockOffsetMs: this.clock.offsetMs,
      silentForMs: this.silentFor(now),
      channels: this.lanes.map((lane) => lane.stats()),
      dropped: { ...this.dropped, malformed: this.dropped.malformed + (this.link?.rejected ?? 0) },
      bufferedBytes,
      undeliveredBytes,
      messagesSent: this.messagesSent,
      messagesReceived: this.messagesReceived,
    };
  }

  /**
   * Tells the peer that this side closes the connection on purpose, once. Best effort: a peer
   * that misses it holds the session for its grace, then drops it.
   */
  sayGoodbye(): void {
    if (!this.leaving && this.heldSince === undefined) {
      this.sendSystem(BYE_MESSAGE);
      this.goodbyeSent = true;
    }
    this.leaving = true;
  }

  /** Closes the connection and drops everything queued. */
  close(): void {
    this.sayGoodbye();
    for (const lane of this.lanes) lane.clear();
    this.readable = 0;
    this.link?.close();
    this.currentConnection.close();
  }

  /**
   * The reliable bytes the lanes may hand the engine now. libdatachannel sends every channel of
   * a connection from one queue, in order, so a long reliable backlog there would hold keepalives
   * and unreliable state behind it: at most the allowance waits there, counted over every channel
   * of the main connection, and the rest waits in the lanes, in their order. The engine is asked
   * only when the lanes' bounds leave less room than they have waiting.
   */
  private reliableRoom(): number {
    let waiting = 0;
    for (const lane of this.reliableLanes) waiting += lane.log?.peekUnsent() ? Number.POSITIVE_INFINITY : lane.pending.bytes;
    const bound = this.mainQueueBound();
    if (this.reliableAllowance - bound >= waiting) return this.reliableAllowance - bound;
    let queued = 0;
    for (const lane of this.lanes) if (this.sendsOnMain(lane)) queued += lane.readEngine(lane.dataChannel);
    this.adaptAllowance(queued);
    return this.reliableAllowance - queued;
  }

  /** Whether a lane has bytes in the main connection's engine queue, by its bound. */
  private sendsOnMain(lane: ChannelLane): boolean {
    return lane.engineBuffered > 0 && this.outChannel(lane) === lane.dataChannel;
  }

  /** The main connection's engine queue, by the lanes' bounds: no engine call. */
  private mainQueueBound(): number {
    let bound = 0;
    for (const lane of this.lanes) if (this.sendsOnMain(lane)) bound += lane.engineBuffered;
    return bound;
  }

  /** Moves the allowance by what the engine did with the queue since the last flush. */
  private adaptAllowance(queued: number): void {
    const least = this.currentConnection.reliableQueueBytes;
    if (queued === 0) {
      // All the room was used and all of it went between two flushes: the link could have taken
      // more. (SCTP takes what its own buffer has room for at once, so the engine's queue may read
      // empty right after a flush too.)
      if (this.reliableFilled) this.reliableAllowance = Math.min(Math.max(MAX_RELIABLE_ENGINE_QUEUE_BYTES, least), 2 * this.reliableAllowance);
      return;
    }
    const drained = Math.max(0, this.mainQueuedAfterFlush - queued);
    this.reliableAllowance = Math.max(least, Math.min(this.reliableAllowance, 2 * drained));
  }

  /** The scheduler's way to send, made once: flush() runs every frame. */
  private readonly sendForScheduler = (lane: ChannelLane, most: number): number => this.sendLane(lane, most, this.flushedAt);

  /** Sends up to `most` bytes of a lane's queued packets as batches (at least one); returns the bytes sent. */
  private sendLane(lane: ChannelLane, most: number, now: number): number {
    const { mode } = lane.spec;
    const header = headerSize(mode);
    // A remote may announce a smaller message size than the budget (a=max-message-size).
    const budget = Math.min(mode === TransferMode.Reliable ? RELIABLE_BATCH_BUDGET : SCTP_PAYLOAD_BUDGET, lane.dataChannel.getMaxPacketSize()) - header;
    let handed = 0;
    if (lane.log) {
      // What is still unsent in the log goes first: new batches wait behind it.
      handed = this.sendLogged(lane, most);
      if (lane.log.peekUnsent() !== undefined || handed >= most) return handed;
    }
    const before = lane.pending.bytes;
    lane.pending.drain(budget, most - handed, (records, count) => this.sendMessage(lane, records, count, now));
    return handed + before - lane.pending.bytes;
  }

  /**
   * Hands the engine the lane's logged messages not yet on this connection, oldest first, up to
   * `room` bytes (one at least); stops at the first it does not take. Returns the bytes handed.
   */
  private sendLogged(lane: ChannelLane, room: number): number {
    const log = lane.log!;
    let handed = 0;
    if (lane.dataChannel.getReadyState() !== ChannelState.Open) return 0;
    for (let message = log.peekUnsent(); message && handed < room; message = log.peekUnsent()) {
      if (!lane.dataChannel.putPacket(message)) break;
      const size = message.length;
      lane.handed(size);
      log.markSent();
      handed += size;
      this.messagesSent++;
      this.reliableBytesSent += size;
    }
    return handed;
  }

  /**
   * Sends one batch: the records as they lie, behind the header written into the room the lane's
   * queue leaves for it (a reliable message has none).
   */
  private sendMessage(lane: ChannelLane, message: Uint8Array, count: number, now: number): void {
    const { mode } = lane.spec;
    if (lane.log) {
      // The log keeps a copy until the peer acknowledges it; the engine takes it in turn.
      lane.log.append(message.slice());
      this.sendLogged(lane, Number.POSITIVE_INFINITY);
      return;
    }
    if (mode !== TransferMode.Reliable) writeHeader(message, mode, now % STAMP_MODULO, lane.takeSequence());
    this.messagesSent++;
    let sent = false;
    const channel = this.outChannel(lane);
    if (channel.getReadyState() === ChannelState.Open) sent = channel.putPacket(message);
    if (sent) lane.handed(message.length);
    if (sent && mode === TransferMode.Reliable) this.reliableBytesSent += message.length;
    if (!sent) {
      // The peer went between the put and the flush: the packets are counted as lost to it.
      for (let n = 0; n < count; n++) this.drop(lane, 'peerGone');
    }
  }

  private receiveMessage(lane: ChannelLane, message: Uint8Array, now: number): void {
    const { mode } = lane.spec;
    const header = this.header;
    const count = readHeader(mode, message, header) ? this.records.start(message, headerSize(mode)) : 0;
    if (count === 0) {
      this.drop(lane, 'malformed');
      return;
    }
    if (mode !== TransferMode.Reliable && this.isStale(header.sentAt, now)) {
      this.records.stop();
      for (let n = 0; n < count; n++) this.drop(lane, 'stale');
      return;
    }
    if (mode === TransferMode.UnreliableOrdered) {
      if (!lane.acceptSequence(header.sequence)) {
        this.records.stop();
        for (let n = 0; n < count; n++) this.drop(lane, 'outOfOrder');
        return;
      }
    }
    this.deliverRecords(lane, message);
  }

  /** Whether a message the peer stamped `sentAt` (its clock) is older than the lifetime now. */
  private isStale(sentAt: number, now: number): boolean {
    const offset = this.clock.offsetMs;
    // Before the first keepalive answer the peer's clock is unknown: nothing is judged stale.
    if (Number.isNaN(offset)) return false;
    const remoteNow = (now + offset) % STAMP_MODULO;
    const age = ((((remoteNow - sentAt) % STAMP_MODULO) + STAMP_MODULO) % STAMP_MODULO) | 0;
    return age > this.lifetimeMs;
  }

  private receiveSystem(message: Uint8Array, now: number): void {
    if (isBye(message)) {
      this.leaving = true;
      return;
    }
    const decoded = decodeSystemMessage(message, this.reliableLanes.length);
    // A peer cannot have received more than was sent to it: such a report is a lie, not a count.
    if (decoded === null || decoded.received > this.reliableBytesSent) {
      this.dropped.malformed++;
      return;
    }
    // The channel is unordered: an older report may arrive after a newer one.
    this.reliableBytesDelivered = Math.max(this.reliableBytesDelivered, decoded.received);
    if (decoded.kind === 'ping') {
      if (this.sendSystem(encodePong(decoded.stamp, now, this.reliableBytesReceived))) this.lastSentAt = now;
      this.acknowledge(decoded.counts);
    } else if (!this.clock.addSample(decoded.stamp, decoded.remoteTime, now)) {
      this.dropped.malformed++;
    }
  }

  /**
   * Frees what the peer acknowledges. The first acknowledgement on a new connection also says
   * where each reliable lane resumes: what it does not cover is resent, in order, from there.
   */
  private acknowledge(counts: readonly number[]): void {
    const reliableLanes = this.reliableLanes;
    reliableLanes.forEach((lane, n) => {
      const verdict = lane.log?.acknowledge(counts[n]!) ?? 'taken';
      if (verdict === 'invalid') this.dropped.malformed++;
      // On a new connection, a count behind what was freed means the peer lost messages it had.
      if (this.awaitingResume && verdict !== 'taken') this.resumeFailed = true;
    });
    if (!this.awaitingResume || this.resumeFailed) return;
    for (const lane of reliableLanes) lane.log?.rewind();
    this.awaitingResume = false;
  }

  /** The system channel the keepalive goes out on: the state connection's once it is up. */
  private systemOut(): DataChannel {
    return this.linkUp ? this.link!.system : this.system;
  }

  /** Sends a system message; false when the system channel is not open. */
  private sendSystem(message: Uint8Array): boolean {
    const system = this.systemOut();
    return system.getReadyState() === ChannelState.Open && system.putPacket(message);
  }
}

