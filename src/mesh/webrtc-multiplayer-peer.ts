import { ConnectionState, type DataChannel, PeerConnection, RtcError } from '../transport/index.js';
import { NON_NEGATIVE_OR_INFINITY, checkOption } from '../transport/option-resolver.js';
import { type ChannelConfig, type ChannelSpec, channelLayout, layoutIndex } from './channel-layout.js';
import { MAX_FRAMING_BYTES } from './framing.js';
import { type MeshLimits, type MeshOptions, UNRELIABLE_LIFETIME_FLOOR_MS, checkReconnectGraceMs, resolveMeshOptions } from './mesh-options.js';
import { MultiplayerPeer } from './multiplayer-peer.js';
import type { PeerStats } from './peer-stats.js';
import { ReadOrder } from './read-order.js';
import { RemotePeer } from './remote-peer.js';
import { ConnectionStatus, MAX_PEER_ID, MAX_TRANSFER_CHANNEL, TARGET_PEER_SERVER, TransferMode } from './multiplayer-constants.js';

/** How long a connection stays open after its goodbye was sent, for the engine to send it. */
const GOODBYE_LINGER_MS = 100;

/** The largest packet `putPacket` takes: one SCTP message of 256 KiB, less rtcmesh's framing. */
export const MAX_PACKET_BYTES = 262144 - MAX_FRAMING_BYTES;

/** What `getPeer` tells of one peer, as Godot's `get_peer` dictionary does. */
export interface PeerInfo {
  connection: PeerConnection;
  /** The user channels in Godot's layout: reliable, ordered, unreliable, then each extra channel. */
  channels: DataChannel[];
  connected: boolean;
}

type Topology = 'none' | 'server' | 'client' | 'mesh';

/**
 * Godot's `WebRTCMultiplayerPeer`: one PeerConnection per remote peer behind the
 * MultiplayerPeer contract, in a server, client or mesh topology. rtcmesh adds a keepalive that
 * finds a silent peer in seconds, unreliable channels that really are, per-tick batching, and
 * per-peer stats (`getPeerStats`).
 */
export class WebRTCMultiplayerPeer extends MultiplayerPeer {
  /**
   * rtcmesh: polled at the start of every `poll()`, before anything else: a signaling client
   * attaches itself here, so that one `poll()` per frame runs signaling and data together.
   */
  signaling: { poll(): void } | null = null;
  private readonly limits: MeshLimits;
  private topology: Topology = 'none';
  private uniqueId = 0;
  private status = ConnectionStatus.Disconnected;
  private layout: ChannelSpec[] = [];
  private readonly peers = new Map<number, RemotePeer>();
  private readonly readOrder = new ReadOrder(this.peers);
  /** The clock at the start of the last poll(). */
  private polledAt = 0;
  private unroutedPackets = 0;
  /** Peers dropped after their goodbye, whose connections close once it has had time to leave. */
  private readonly lingering: Array<{ peer: RemotePeer; until: number }> = [];

  /** @param options rtcmesh's limits and timings; every field has a documented default. */
  constructor(options: MeshOptions = {}) {
    super();
    this.limits = resolveMeshOptions(options);
  }

  /**
   * Godot `create_server`: this side is peer 1 and accepts clients.
   * @param channelsConfig an entry for each extra channel (transfer channels 1, 2, …): a
   * TransferMode, or (rtcmesh) `{ mode, priority, weight }` to rank this side's sending.
   * @throws RtcError ERR_ALREADY_IN_USE while active; ERR_INVALID_PARAMETER for a bad config.
   */
  createServer(channelsConfig: readonly ChannelConfig[] = []): void {
    this.start('server', TARGET_PEER_SERVER, channelsConfig);
  }

  /**
   * Godot `create_client`: this side is `peerId` and connects to the server (peer 1) only.
   * @throws RtcError ERR_INVALID_PARAMETER for id 1 or one out of range; ERR_ALREADY_IN_USE while active.
   */
  createClient(peerId: number, channelsConfig: readonly ChannelConfig[] = []): void {
    checkPeerId(peerId);
    if (peerId === TARGET_PEER_SERVER) {
      throw new RtcError('ERR_INVALID_PARAMETER', 'a client cannot be peer 1, the server: use an id from 2 up.');
    }
    this.start('client', peerId, channelsConfig);
  }

  /**
   * Godot `create_mesh`: this side is `peerId` and connects to every other peer.
   * @throws RtcError ERR_INVALID_PARAMETER for an id out of range; ERR_ALREADY_IN_USE while active.
   */
  createMesh(peerId: number, channelsConfig: readonly ChannelConfig[] = []): void {
    checkPeerId(peerId);
    this.start('mesh', peerId, channelsConfig);
  }

  /**
   * Godot `add_peer`: takes a new PeerConnection for `peerId` and creates the negotiated
   * channels on it; negotiate it as usual afterwards (offer, answer, candidates).
   * @param unreliableLifetime milliseconds after which an unreliable packet is stale and dropped
   * on arrival (at least {@link UNRELIABLE_LIFETIME_FLOOR_MS}).
   * @throws RtcError ERR_UNCONFIGURED before create*; ERR_UNAUTHORIZED while refusing new
   * connections; ERR_INVALID_PARAMETER for an id the topology forbids or a connection not New;
   * ERR_ALREADY_EXISTS for an id already added.
   */
  addPeer(connection: PeerConnection, peerId: number, unreliableLifetime = 1): void {
    if (this.topology === 'none') {
      throw new RtcError('ERR_UNCONFIGURED', 'call createServer(), createClient() or createMesh() before addPeer().');
    }
    if (this.refuseNewConnections) {
      throw new RtcError('ERR_UNAUTHORIZED', 'refuseNewConnections is set: clear it to accept peers.');
    }
    checkPeerId(peerId);
    if (peerId === this.uniqueId) throw new RtcError('ERR_INVALID_PARAMETER', `peer ${peerId} is this side's own id.`);
    if (this.topology === 'client' && peerId !== TARGET_PEER_SERVER) {
      throw new RtcError('ERR_INVALID_PARAMETER', 'a client connects to the server only: add peer 1.');
    }
    if (this.topology === 'server' && peerId === TARGET_PEER_SERVER) {
      throw new RtcError('ERR_INVALID_PARAMETER', 'the server is peer 1 itself: clients have ids from 2 up.');
    }
    if (this.peers.has(peerId)) throw new RtcError('ERR_ALREADY_EXISTS', `peer ${peerId} is already added: removePeer() it first.`);
    if (!(connection instanceof PeerConnection) || connection.getConnectionState() !== ConnectionState.New) {
      throw new RtcError('ERR_INVALID_PARAMETER', 'addPeer() takes a PeerConnection in state New: initialize() a fresh one.');
    }
    checkOption('addPeer()', 'unreliableLifetime', { rule: NON_NEGATIVE_OR_INFINITY, advice: 'milliseconds' }, unreliableLifetime);
    const lifetime = Math.max(unreliableLifetime, UNRELIABLE_LIFETIME_FLOOR_MS);
    this.peers.set(peerId, new RemotePeer(peerId, connection, this.layout, lifetime, this.limits, this.limits.clock(), this.uniqueId));
  }

  /**
   * rtcmesh: resumes a connected peer's session on a new connection (negotiate it as usual
   * afterwards). The peer is held (`peerReconnecting`, if its loss was not noticed yet) until the
   * connection is up and the peer has said where each reliable channel resumes; then what it has
   * not acknowledged is resent in order, and `peerReconnected` is emitted. Both sides call this,
   * each with its own new connection. A held peer not resumed within `reconnectGraceMs` is
   * dropped with `peerDisconnected`.
   * @throws RtcError ERR_UNAVAILABLE with reconnectGraceMs 0; ERR_DOES_NOT_EXIST for an id not
   * added; ERR_INVALID_PARAMETER for a peer that has not connected or a connection not New.
   */
  replacePeerConnection(peerId: number, connection: PeerConnection): void {
    if (this.limits.reconnectGraceMs === 0) {
      throw new RtcError('ERR_UNAVAILABLE', 'resumption is off: set MeshOptions.reconnectGraceMs above 0.');
    }
    const peer = this.requirePeer(peerId);
    if (!peer.connected) {
      throw new RtcError('ERR_INVALID_PARAMETER', `peer ${peerId} has not connected yet: removePeer() and addPeer() it instead.`);
    }
    if (!(connection instanceof PeerConnection) || connection.getConnectionState() !== ConnectionState.New) {
      throw new RtcError('ERR_INVALID_PARAMETER', 'replacePeerConnection() takes a PeerConnection in state New: initialize() a fresh one.');
    }
    peer.hold(this.limits.clock());
    peer.attach(connection);
  }

  /** rtcmesh: the `reconnectGraceMs` in force (0: resumption off). */
  getReconnectGraceMs(): number {
    return this.limits.reconnectGraceMs;
  }

  /**
   * rtcmesh: changes `reconnectGraceMs` before any peer is added (the signaling client turns
   * resumption off this way when the server issues no session token).
   * @throws RtcError ERR_ALREADY_IN_USE once a peer is added; ERR_INVALID_PARAMETER for a bad value.
   */
  setReconnectGraceMs(ms: number): void {
    if (this.peers.size > 0) throw new RtcError('ERR_ALREADY_IN_USE', 'peers are added already: set reconnectGraceMs before the first addPeer().');
    this.limits.reconnectGraceMs = checkReconnectGraceMs(ms);
  }

  /** rtcmesh: whether a peer's session is held, waiting for a new connection. */
  isPeerReconnecting(peerId: number): boolean {
    return this.peers.get(peerId)?.held ?? false;
  }

  /**
   * Godot `remove_peer`: closes the peer's connection; emits peerDisconnected if it had connected.
   * @throws RtcError ERR_DOES_NOT_EXIST for an id not added.
   */
  removePeer(peerId: number): void {
    const peer = this.requirePeer(peerId);
    this.dropPeer(peer, true);
  }

  /** Godot `has_peer`. */
  hasPeer(peerId: number): boolean {
    return this.peers.has(peerId);
  }

  /**
   * Godot `get_peer`: the peer's connection, channels and whether it has connected.
   * @throws RtcError ERR_DOES_NOT_EXIST for an id not added.
   */
  getPeer(peerId: number): PeerInfo {
    return peerInfo(this.requirePeer(peerId));
  }

  /** Godot `get_peers`: every added peer by id. */
  getPeers(): Map<number, PeerInfo> {
    return new Map([...this.peers].map(([id, peer]) => [id, peerInfo(peer)]));
  }

  /**
   * rtcmesh: round-trip time, clock offset, traffic per channel, drops by reason and buffered bytes.
   * @throws RtcError ERR_DOES_NOT_EXIST for an id not added.
   */
  getPeerStats(peerId: number): PeerStats {
    return this.requirePeer(peerId).stats(this.limits.clock());
  }

  /**
   * rtcmesh: bytes put for the peer and not yet sent: waiting in rtcmesh's queues, and in the
   * engine as of the last flush() or poll(). Cheap enough to read before every putPacket(): it
   * allocates nothing and asks the engine nothing (getPeerStats() does both).
   * @throws RtcError ERR_DOES_NOT_EXIST for an id not added.
   */
  getPeerBufferedBytes(peerId: number): number {
    return this.requirePeer(peerId).bufferedBytes;
  }

  /** rtcmesh: packets put for a peer that was not (or no longer) connected. */
  getUnroutedPacketCount(): number {
    return this.unroutedPackets;
  }

  /**
   * Godot `put_packet`, for the target, transfer mode and transfer channel set. Returns false when
   * a target could not take it (gone, backed up, silent); each such packet is counted.
   * @throws RtcError ERR_UNCONFIGURED when not active; ERR_INVALID_PARAMETER for a packet over
   * {@link MAX_PACKET_BYTES} or a transfer channel the channels config does not have.
   */
  putPacket(packet: Uint8Array): boolean {
    if (this.status === ConnectionStatus.Disconnected) {
      throw new RtcError('ERR_UNCONFIGURED', 'not active: call createServer(), createClient() or createMesh() first.');
    }
    // `length`, which is a Uint8Array's byteLength: Node's V8 compiles a byteLength read to a call
    // of the generic property load, where `length` is a field read. Read here, handed down.
    if (!(packet instanceof Uint8Array) || packet.length > MAX_PACKET_BYTES) {
      throw new RtcError('ERR_INVALID_PARAMETER', `a packet is a Uint8Array of at most ${MAX_PACKET_BYTES} bytes.`);
    }
    const lane = layoutIndex(this.transferChannel, this.transferMode);
    if (lane >= this.layout.length) {
      throw new RtcError(
        'ERR_INVALID_PARAMETER',
        `transfer channel ${this.transferChannel} is not configured: the channels config has ${this.layout.length - 3}.`,
      );
    }
    // A peer's silence is judged as of the last poll (only a poll hears from it): reading the
    // clock for every packet was a fifth of a browser's time at 64 B. Without batching the
    // packet leaves now, stamped now.
    const now = this.limits.batching ? this.polledAt : this.limits.clock();
    // Each peer copies the packet into its batch at once: the caller may reuse its buffer.
    const size = packet.length;
    const target = this.targetPeer;
    if (target > 0) {
      const peer = this.peers.get(target);
      if (!peer?.connected) {
        this.unroutedPackets++;
        return false;
      }
      return peer.put(lane, packet, size, now);
    }
    let allTaken = true;
    for (const peer of this.peers.values()) {
      if (peer.connected && peer.id !== -target) allTaken = peer.put(lane, packet, size, now) && allTaken;
    }
    return allTaken;
  }

  /** rtcmesh: sends every batched packet now, rather than at the next poll(). */
  flush(): void {
    const now = this.limits.clock();
    for (const peer of this.peers.values()) peer.flush(now);
  }

  getPacket(): Uint8Array | null {
    const peer = this.readOrder.peek();
    if (!peer) return null;
    const packet = peer.shift()!;
    this.readOrder.taken(peer);
    return packet;
  }

  getAvailablePacketCount(): number {
    return this.readOrder.count();
  }

  getPacketPeer(): number {
    return this.readOrder.peek()?.id ?? 0;
  }

  getPacketChannel(): number {
    return this.readOrder.peek()?.nextLane()?.spec.transferChannel ?? 0;
  }

  getPacketMode(): TransferMode {
    return this.readOrder.peek()?.nextLane()?.spec.mode ?? TransferMode.Reliable;
  }

  /**
   * Godot `poll`: sends what was batched, polls every connection, receives, keeps peers alive,
   * and emits peerConnected and peerDisconnected.
   */
  poll(): void {
    this.signaling?.poll();
    if (this.topology === 'none') return;
    this.readOrder.invalidate();
    const now = this.limits.clock();
    this.polledAt = now;
    while (this.lingering.length > 0 && this.lingering[0]!.until <= now) this.lingering.shift()!.peer.close();
    // Allocated only on the poll that connects someone: poll() runs every frame.
    let connectedNow: RemotePeer[] | undefined;
    // A Map may lose entries while it is iterated: a dropped peer is simply not visited again.
    for (const peer of this.peers.values()) {
      if (peer.held) {
        if (this.pollHeld(peer, now)) return;
        continue;
      }
      // System traffic first: in the engine's one queue, a keepalive goes ahead of this poll's batches.
      if (peer.connected) peer.keepAlive(now);
      peer.flush(now);
      peer.pollConnections(now);
      if (peer.isLost(now)) {
        if (peer.holdIfResumable(now)) {
          if (this.pollHeld(peer, now)) return;
          continue;
        }
        this.dropPeer(peer, true);
        if (this.closedByListener()) return;
        continue;
      }
      if (peer.connectIfReady(now)) (connectedNow ??= []).push(peer);
      peer.receive(now);
    }
    for (const peer of connectedNow ?? []) {
      if (this.peers.get(peer.id) !== peer) continue;
      if (this.topology === 'client') this.status = ConnectionStatus.Connected;
      this.emit('peerConnected', peer.id);
      if (this.closedByListener()) return;
    }
  }

  close(): void {
    for (const peer of this.peers.values()) peer.close();
    for (const { peer } of this.lingering.splice(0)) peer.close();
    this.peers.clear();
    this.topology = 'none';
    this.uniqueId = 0;
    this.status = ConnectionStatus.Disconnected;
    this.readOrder.reset();
  }

  /**
   * Godot `disconnect_peer`: closes the peer's connection; it is dropped, with peerDisconnected,
   * at the next poll. With `force`, it is dropped at once and no event is emitted.
   * @throws RtcError ERR_DOES_NOT_EXIST for an id not added.
   */
  disconnectPeer(peerId: number, force = false): void {
    const peer = this.requirePeer(peerId);
    if (force) this.dropPeer(peer, false);
    // The connection closes at the next poll, which gives the goodbye the time to leave.
    else peer.sayGoodbye();
  }

  getConnectionStatus(): ConnectionStatus {
    return this.status;
  }

  getUniqueId(): number {
    return this.uniqueId;
  }

  isServerRelaySupported(): boolean {
    return this.topology === 'server' || this.topology === 'client';
  }

  /**
   * One poll of a held peer: announces the hold, drops it at the end of the grace or when it
   * cannot resume, polls its new connection if it has one, and resumes it once that is up.
   * Returns true when a listener closed this multiplayer peer.
   */
  private pollHeld(peer: RemotePeer, now: number): boolean {
    if (peer.announceHold()) {
      this.emit('peerReconnecting', peer.id);
      if (this.closedByListener()) return true;
    }
    if (peer.isHoldOver(now)) {
      this.dropPeer(peer, true);
      return this.closedByListener();
    }
    peer.connection.poll();
    const state = peer.connection.getConnectionState();
    if (state === ConnectionState.New || state === ConnectionState.Closed) return false;
    if (state === ConnectionState.Failed || peer.hasClosedChannel()) {
      // The new connection failed too: the session waits, within its grace, for another.
      peer.connection.close();
      return false;
    }
    peer.receive(now);
    peer.keepAlive(now);
    if (!peer.isResumed()) return false;
    peer.release(now);
    peer.flush(now);
    this.emit('peerReconnected', peer.id);
    return this.closedByListener();
  }

  // A listener may close() this peer while poll() emits: poll() must then stop at once.
  private closedByListener(): boolean {
    return this.topology === 'none';
  }

  private start(topology: Topology, peerId: number, channelsConfig: readonly ChannelConfig[]): void {
    if (this.topology !== 'none') {
      throw new RtcError('ERR_ALREADY_IN_USE', 'this multiplayer peer is active: close() it first.');
    }
    if (!Array.isArray(channelsConfig) || channelsConfig.length > MAX_TRANSFER_CHANNEL) {
      throw new RtcError('ERR_INVALID_PARAMETER', `channelsConfig is an array of at most ${MAX_TRANSFER_CHANNEL} entries.`);
    }
    this.layout = channelLayout(channelsConfig);
    this.topology = topology;
    this.uniqueId = peerId;
    // Mesh and server are connected as soon as they exist; a client once the server is.
    this.status = topology === 'client' ? ConnectionStatus.Connecting : ConnectionStatus.Connected;
  }

  private dropPeer(peer: RemotePeer, notify: boolean): void {
    this.peers.delete(peer.id);
    if (peer.saidGoodbye) this.lingering.push({ peer, until: this.limits.clock() + GOODBYE_LINGER_MS });
    else peer.close();
    this.readOrder.invalidate();
    if (!peer.disconnect()) return;
    if (this.topology === 'client' && peer.id === TARGET_PEER_SERVER) this.status = ConnectionStatus.Disconnected;
    if (notify) this.emit('peerDisconnected', peer.id);
  }

  private requirePeer(peerId: number): RemotePeer {
    const peer = this.peers.get(peerId);
    if (!peer) throw new RtcError('ERR_DOES_NOT_EXIST', `peer ${peerId} is not added: check hasPeer() first.`);
    return peer;
  }
}

function checkPeerId(peerId: number): void {
  if (!Number.isInteger(peerId) || peerId < 1 || peerId > MAX_PEER_ID) {
    throw new RtcError('ERR_INVALID_PARAMETER', `a peer id is an integer 1 to ${MAX_PEER_ID}.`);
  }
}

function peerInfo(peer: RemotePeer): PeerInfo {
  return { connection: peer.connection, channels: peer.lanes.map((lane) => lane.dataChannel), connected: peer.connected };
}
