import { EventEmitter } from 'eventemitter3';
import { MultiplayerPeer } from '../mesh/multiplayer-peer.js';
import type { PeerStats } from '../mesh/peer-stats.js';
import { ConnectionStatus, TARGET_PEER_SERVER, TransferMode } from '../mesh/multiplayer-constants.js';
import { clockMs } from '../mesh/clock.js';
import { WebRTCMultiplayerPeer } from '../mesh/webrtc-multiplayer-peer.js';
import { RtcError } from '../transport/errors.js';
import { FUNCTION, type OptionSpecs, POSITIVE_NUMBER, checkOption, integerRule, optionDefaults, orNullRule, resolveOptions } from '../transport/option-resolver.js';
import { RpcCodec } from '../rpc/codec.js';
import { PathCache } from '../rpc/path-cache.js';
import { NetworkClock } from './network-clock.js';
import { PeerRpcState, type RpcDropReason } from '../rpc/peer-rpc-state.js';
import { Relay } from '../rpc/relay.js';
import { RpcInterface } from '../rpc/rpc-interface.js';
import type { RpcLimits } from '../rpc/rpc-limits.js';
import { type MethodNames, type RpcConfigMap, RpcNode, type RpcTarget } from '../rpc/rpc-node.js';
import { PeerReplicationState, type ReplicationDropReason } from '../replication/peer-replication-state.js';
import { type ReplicationHost, ReplicationInterface } from '../replication/replication-interface.js';
import { MultiplayerSpawner, type SpawnerOptions } from '../replication/multiplayer-spawner.js';
import type { PropertyMap } from '../replication/replication-config.js';
import { type AuthCallback, Authentication } from './authentication.js';
import { RelayedPeers } from './relayed-peers.js';

/** The options of a {@link MultiplayerAPI}. */
export interface MultiplayerAPIOptions {
  /** Bounds on every RPC packet; both ends must agree. Defaults: the codec's (`DEFAULT_RPC_LIMITS`). */
  limits?: Partial<RpcLimits>;
  /** Calls to `authority` methods a peer may make without authority before the server drops it. Default 10. */
  maxAuthorityViolations?: number;
  /** Paths one peer may have announced and not released. Default 1024. */
  maxPathsPerPeer?: number;
  /** Entities one peer's spawners may have alive here, whatever their `spawnLimit`. Default 16384. */
  maxEntitiesPerPeer?: number;
  /** Bytes of one authentication packet's data (`sendAuth`); both ends must agree. Default 4096. */
  maxAuthBytes?: number;
  /** Authentication packets a peer may send before it is admitted; later ones are dropped (`authFlood`). Default 32. */
  maxAuthPackets?: number;
}

/** What `MultiplayerAPI.getPeerStats` tells: the transport's figures and the RPC and replication layers' drops. */
export interface RpcPeerStats {
  /**
   * The peer whose link carries this peer's packets: the peer itself, or 1 for a client known
   * through the server, whose packets the server relays.
   */
  via: number;
  /** The multiplayer peer's stats for the link `via`, where it keeps any (WebRTCMultiplayerPeer does); none for a relayed peer. */
  transport: PeerStats | undefined;
  /** Packets the RPC layer dropped from the link `via`, by reason (a relayed peer's are the server's). */
  dropped: Record<RpcDropReason, number>;
  /** Replication packets (spawns, despawns, state) dropped from the link `via`, by reason. */
  replicationDropped: Record<ReplicationDropReason, number>;
  /** Calls to authority methods this peer made without authority. */
  authorityViolations: number;
}

/** An error the RPC layer reports without throwing out of `poll()`. */
export interface RpcErrorContext {
  /** The peer the failure concerns. */
  peerId: number;
  path?: string;
  method?: string;
}

/** What an `authorityViolation` event tells of a refused call. */
export interface AuthorityViolationContext {
  path: string;
  method: string;
  /** The peer's violations so far, this one included (the events are at most one a second per peer). */
  violations: number;
}

/** The events of a {@link MultiplayerAPI}, Godot's SceneMultiplayer signals; all inside `poll()`. */
export interface MultiplayerAPIEvents {
  /** A peer was admitted: connected, and authenticated where an `authCallback` is set. */
  peerConnected: (id: number) => void;
  peerDisconnected: (id: number) => void;
  /**
   * rtcmesh: an admitted peer's link is lost and its session is held for the multiplayer peer's
   * `reconnectGraceMs`: reliable calls to it are queued, unreliable ones dropped as stale.
   */
  peerReconnecting: (id: number) => void;
  /** rtcmesh: a held peer's session resumed on a new connection; nothing reliable was lost or doubled. */
  peerReconnected: (id: number) => void;
  /** Godot `peer_authenticating`: a peer connected and waits for authentication. */
  peerAuthenticating: (id: number) => void;
  /** Godot `peer_authentication_failed`: an authenticating peer timed out, was refused or left. */
  peerAuthenticationFailed: (id: number) => void;
  /** rtcmesh: a call to an `authority` method from a peer that is not the authority was refused. */
  authorityViolation: (id: number, context: AuthorityViolationContext) => void;
  /** A client reached the server. */
  connectedToServer: () => void;
  /** A client could not reach the server. */
  connectionFailed: () => void;
  /** A client lost the server. */
  serverDisconnected: () => void;
  /** Godot `peer_packet`: bytes a peer sent with `sendBytes`. */
  peerPacket: (id: number, bytes: Uint8Array) => void;
  /** rtcmesh: a handler threw, two builds disagree on a path, or a replicated value could not be sent. */
  error: (error: Error, context: RpcErrorContext) => void;
}

const MULTIPLAYER_API_LIMIT_SPECS: OptionSpecs<Record<'maxAuthorityViolations' | 'maxPathsPerPeer' | 'maxEntitiesPerPeer' | 'maxAuthBytes' | 'maxAuthPackets', number>> = {
  maxAuthorityViolations: { default: 10, rule: integerRule(1) },
  maxPathsPerPeer: { default: 1024, rule: integerRule(1) },
  maxEntitiesPerPeer: { default: 16384, rule: integerRule(1) },
  maxAuthBytes: { default: 4096, rule: integerRule(1) },
  maxAuthPackets: { default: 32, rule: integerRule(1) },
};

const API_OWNER = 'MultiplayerAPI';
const MULTIPLAYER_PEER = { rule: orNullRule({ expected: 'a MultiplayerPeer such as a WebRTCMultiplayerPeer', accepts: (value) => value instanceof MultiplayerPeer }) };
const AUTH_CALLBACK = { rule: orNullRule(FUNCTION), advice: 'one called with (peerId, data)' };

/** The defaults of the numeric {@link MultiplayerAPIOptions}, as docs/api.md lists them. */
export const MULTIPLAYER_API_DEFAULTS = optionDefaults(MULTIPLAYER_API_LIMIT_SPECS);

/** Godot's `auth_timeout` default, 3 s. */
export const DEFAULT_AUTH_TIMEOUT_MS = 3000;

/** The shortest time between two `authorityViolation` events about one peer. */
export const AUTHORITY_EVENT_INTERVAL_MS = 1000;

// How often poll() moves the network clock toward the reference peer's estimated offset.
const CLOCK_FOLLOW_MS = 50;

/**
 * The high-level multiplayer API: Godot's `SceneMultiplayer`. Objects registered under a path
 * are called remotely with `rpc`/`rpcId`; spawners replicate entities and their state. One
 * `poll()` per frame drives the multiplayer peer, the signaling client attached to it, the RPCs
 * and replication. As in Godot, the work is split: a path cache names objects on the wire, the
 * RPC interface sends and runs calls, the relay forwards between clients, and the replication
 * interface runs spawners and synchronizers.
 */
export class MultiplayerAPI extends EventEmitter<MultiplayerAPIEvents> {
  /** Godot `server_relay`: in server/client topology, clients reach each other through the server. */
  serverRelay = true;
  private peer: MultiplayerPeer | null = null;
  private readonly codec: RpcCodec;
  private readonly options: Record<keyof typeof MULTIPLAYER_API_DEFAULTS, number>;
  private readonly links = new Map<number, PeerRpcState>();
  private readonly paths: PathCache;
  private readonly rpcs: RpcInterface;
  private readonly relay: Relay;
  private readonly replication: ReplicationInterface;
  private readonly auth: Authentication;
  private readonly relayed: RelayedPeers;
  private callback: AuthCallback | null = null;
  private timeoutMs = DEFAULT_AUTH_TIMEOUT_MS;
  private lastStatus = ConnectionStatus.Disconnected;
  private reachedServer = false;
  private readonly clock = new NetworkClock(clockMs);
  private clockReference = 0;
  private nextClockFollowAt = 0;
  // Set with a multiplayer peer that may be connected already: its peers join at the next poll.
  private adopting = false;

  constructor(options: MultiplayerAPIOptions = {}) {
    super();
    this.codec = new RpcCodec(options.limits);
    this.options = resolveOptions('MultiplayerAPIOptions', MULTIPLAYER_API_LIMIT_SPECS, options);
    const host = this.host();
    const now = (): number => performance.now();
    this.auth = new Authentication(
      {
        callback: () => this.callback,
        putUnadmitted: (to, packet) => this.putTo(to, packet, TransferMode.Reliable, 0),
        admit: (id, link) => this.admit(id, link),
        fail: (id) => this.dropAuthenticating(id),
        reportError: (error, context) => this.emit('error', error, context),
      },
      this.codec,
      this.options,
      now,
    );
    this.relayed = new RelayedPeers(
      {
        ...host,
        admitted: () => this.links.keys(),
        announce: (id, connected) => this.emit(connected ? 'peerConnected' : 'peerDisconnected', id),
      },
      this.codec,
    );
    this.paths = new PathCache(this.codec, host, this.links, this.options, (error, context) => this.emit('error', error, context), now);
    this.rpcs = new RpcInterface(host, this.codec, this.paths, now);
    this.relay = new Relay(host, this.codec, this.paths, this.rpcs);
    this.replication = new ReplicationInterface(host, this.codec, this.paths, this.rpcs, now, this.options.maxEntitiesPerPeer);
  }

  /**
   * Godot `multiplayer_peer`: the peer this API runs on; setting another detaches the old one. A
   * WebRTCMultiplayerPeer's peers that are connected already join at the next `poll()`, each with
   * `peerConnected` (or authentication first), as if they had connected then.
   */
  get multiplayerPeer(): MultiplayerPeer | null {
    return this.peer;
  }

  set multiplayerPeer(peer: MultiplayerPeer | null) {
    checkOption(API_OWNER, 'multiplayerPeer', MULTIPLAYER_PEER, peer);
    this.peer?.off('peerConnected', this.onPeerConnected, this);
    this.peer?.off('peerDisconnected', this.onPeerDisconnected, this);
    this.peer?.off('peerReconnecting', this.onPeerReconnecting, this);
    this.peer?.off('peerReconnected', this.onPeerReconnected, this);
    for (const id of [...this.links.keys()]) this.forget(id);
    this.auth.clear();
    this.relayed.clear();
    this.peer = peer;
    this.lastStatus = peer?.getConnectionStatus() ?? ConnectionStatus.Disconnected;
    this.reachedServer = false;
    peer?.on('peerConnected', this.onPeerConnected, this);
    peer?.on('peerDisconnected', this.onPeerDisconnected, this);
    peer?.on('peerReconnecting', this.onPeerReconnecting, this);
    peer?.on('peerReconnected', this.onPeerReconnected, this);
    this.adopting = peer instanceof WebRTCMultiplayerPeer;
    this.nextClockFollowAt = 0;
  }

  /**
   * Godot `auth_callback`: with a callback, each peer the multiplayer peer connects authenticates
   * first (`sendAuth`, `completeAuth` on both sides) and is not in `getPeers()`, gets no
   * `peerConnected`, and exchanges no RPC or replication until it has. Null (the default): peers
   * join as they connect. Set it before peers connect, alike on both ends.
   */
  get authCallback(): AuthCallback | null {
    return this.callback;
  }

  set authCallback(callback: AuthCallback | null) {
    checkOption(API_OWNER, 'authCallback', AUTH_CALLBACK, callback);
    this.callback = callback;
  }

  /** Godot `auth_timeout`, in milliseconds: an authentication not complete by then fails. Default 3000. */
  get authTimeoutMs(): number {
    return this.timeoutMs;
  }

  set authTimeoutMs(ms: number) {
    this.timeoutMs = checkOption(API_OWNER, 'authTimeoutMs', { rule: POSITIVE_NUMBER, advice: 'milliseconds' }, ms) as number;
  }

  /**
   * Godot `send_auth`: authentication data for a peer's `authCallback`, at most `maxAuthBytes`.
   * Returns false when it could not be sent.
   * @throws RtcError ERR_DOES_NOT_EXIST for a peer not authenticating; ERR_ALREADY_EXISTS once
   * `completeAuth` was called for it; ERR_INVALID_PARAMETER for data empty or too long.
   */
  sendAuth(peerId: number, data: Uint8Array): boolean {
    return this.auth.send(peerId, data);
  }

  /**
   * Godot `complete_auth`: this side accepts the peer. It is admitted (`peerConnected`) once the
   * peer has accepted this side too.
   * @throws RtcError ERR_DOES_NOT_EXIST for a peer not authenticating; ERR_ALREADY_EXISTS for a second call.
   */
  completeAuth(peerId: number): void {
    this.auth.complete(peerId);
  }

  /** Godot `get_authenticating_peers`: the peers connected and not yet admitted. */
  getAuthenticatingPeers(): number[] {
    return this.auth.peers();
  }

  /**
   * Godot `disconnect_peer`: drops a peer at once (`peerDisconnected`, or `peerAuthenticationFailed`
   * for one authenticating) and closes its connection.
   * @throws RtcError ERR_DOES_NOT_EXIST for a peer not connected to this side directly.
   */
  disconnectPeer(peerId: number): void {
    const peer = this.peer;
    if (this.auth.linkOf(peerId)) this.dropAuthenticating(peerId);
    else if (this.links.has(peerId)) this.onPeerDisconnected(peerId);
    else throw new RtcError('ERR_DOES_NOT_EXIST', `peer ${peerId} is not connected to this side: see getPeers() and getAuthenticatingPeers().`);
    if (peer && this.peer === peer) peer.disconnectPeer(peerId);
  }

  /**
   * Registers `target` under `path` with a config for each method that may be called remotely,
   * and returns the handle whose `rpc`/`rpcId` are typed by those methods. A path unregistered
   * before may be registered again, with the same object or another.
   * @throws RtcError ERR_ALREADY_EXISTS for a path taken; ERR_INVALID_PARAMETER for a bad path or config.
   */
  register<T extends object, C extends RpcConfigMap<T>>(path: string, target: T, config: C): RpcNode<T, keyof C & MethodNames<T>> {
    this.checkPath(path);
    const node = new RpcNode(this.sender(), path, this.paths.nextId(), target, config);
    this.paths.add(node);
    return node as RpcNode<T, keyof C & MethodNames<T>>;
  }

  /**
   * Godot `MultiplayerSpawner`: a collection of entities under `path` that its authority spawns
   * and despawns on every peer that sees them, each with a synchronizer of the declared properties.
   * @throws RtcError ERR_ALREADY_EXISTS for a path taken; ERR_INVALID_PARAMETER for a bad path or options.
   */
  addSpawner<T extends object, D = unknown, P extends PropertyMap = PropertyMap, C extends RpcConfigMap<T> = RpcConfigMap<T>>(
    path: string,
    options: SpawnerOptions<T, D, P, C>,
  ): MultiplayerSpawner<T, D, keyof C & MethodNames<T>> {
    this.checkPath(path);
    const spawner = new MultiplayerSpawner<T, D, keyof C & MethodNames<T>>(this.sender(), this.replication, path, this.paths.nextId(), options, this.codec.limits);
    this.paths.add(spawner);
    this.replication.addSpawner(spawner as unknown as MultiplayerSpawner<object, unknown, string>);
    return spawner;
  }

  /**
   * Removes what is registered at `path` (an object or a spawner, whose entities are despawned
   * here): calls to it are refused from now on, and its path id is released at every peer.
   */
  unregister(path: string): void {
    const target = this.paths.get(path);
    if (target instanceof MultiplayerSpawner) this.replication.removeSpawner(target as MultiplayerSpawner<object, unknown, string>);
    this.paths.remove(path);
  }

  /** The node registered at `path`, if any. */
  getNode(path: string): RpcNode<object, string> | undefined {
    const target = this.paths.get(path);
    return target instanceof RpcNode ? (target as RpcNode<object, string>) : undefined;
  }

  /** The spawner added at `path`, if any. */
  getSpawner(path: string): MultiplayerSpawner<object, unknown, string> | undefined {
    const target = this.paths.get(path);
    return target instanceof MultiplayerSpawner ? (target as MultiplayerSpawner<object, unknown, string>) : undefined;
  }

  /**
   * Godot `rpc`: calls `method` of the object at `path` on every peer (and here when `callLocal`).
   * Returns false when a target could not be reached. Prefer the typed `node.rpc(...)`.
   * @throws RtcError ERR_INVALID_PARAMETER for an unknown path or method or too many arguments;
   * ERR_UNCONFIGURED without a multiplayer peer.
   */
  rpc(path: string, method: string, ...args: unknown[]): boolean {
    return this.call(this.requireNode(path), method, 0, args);
  }

  /**
   * Godot `rpc_id`: calls `method` on peer `peerId` (0 everyone, -n everyone but n).
   * @throws RtcError as {@link rpc}, and ERR_INVALID_PARAMETER calling yourself without `callLocal`.
   */
  rpcId(peerId: number, path: string, method: string, ...args: unknown[]): boolean {
    return this.call(this.requireNode(path), method, peerId, args);
  }

  /**
   * Godot `send_bytes`: the game's own packet, beside RPCs; arrives as `peerPacket`.
   * @throws RtcError ERR_UNCONFIGURED without a multiplayer peer; ERR_INVALID_PARAMETER for bytes over the limit.
   */
  sendBytes(bytes: Uint8Array, id = 0, mode: TransferMode = TransferMode.Reliable, channel = 0): boolean {
    const peer = this.requirePeer();
    if (peer.getConnectionStatus() !== ConnectionStatus.Connected) return false;
    const packet = this.codec.encodeRaw(bytes);
    if (this.relays(id)) return (id <= 0 || this.relayed.has(id)) && this.put(TARGET_PEER_SERVER, this.codec.encodeRelay(id, packet), mode, channel);
    let sent = true;
    for (const target of this.targets(id)) sent = this.put(target, packet, mode, channel) && sent;
    return sent;
  }

  /** Godot `poll`: polls the multiplayer peer (and its signaling), runs what arrived, then replicates. */
  poll(): void {
    const peer = this.peer;
    if (!peer) return;
    peer.poll();
    if (this.peer !== peer) return;
    if (this.adopting && peer instanceof WebRTCMultiplayerPeer) {
      this.adopting = false;
      for (const [id, entry] of peer.getPeers()) if (entry.connected && this.peer === peer) this.onPeerConnected(id);
    }
    if (this.peer !== peer) return;
    this.checkStatus(peer);
    this.followClock(peer);
    // getPacketPeer() is 0 once nothing is left: cheaper per packet than counting every peer's queue.
    for (let from = peer.getPacketPeer(); from !== 0 && this.peer === peer; from = peer.getPacketPeer()) {
      const mode = peer.getPacketMode();
      const channel = peer.getPacketChannel();
      const packet = peer.getPacket();
      if (packet) this.receive(from, packet, mode, channel);
    }
    if (this.peer !== peer) return;
    this.auth.expire();
    this.rpcs.reportRejected();
    this.rpcs.expireHeld(this.links);
    if (peer.getConnectionStatus() === ConnectionStatus.Connected) this.replication.process();
  }

  /**
   * rtcmesh: the network time in milliseconds, one clock every peer agrees on: the server's (peer
   * 1) in the server topology, the lowest peer id's in a mesh (this side's own when it is the
   * lowest). It follows the keepalive's estimate of that peer's clock offset (from the fastest
   * of its recent round trips), slews small corrections and never runs backwards. Before the
   * first estimate, and without a WebRTCMultiplayerPeer, it is this side's own clock.
   */
  getNetworkTime(): number {
    return this.clock.read();
  }

  /** Godot `get_unique_id`: this side's peer id; 0 without a multiplayer peer. */
  getUniqueId(): number {
    return this.peer?.getUniqueId() ?? 0;
  }

  /** Godot `is_server`: whether this side is peer 1. */
  isServer(): boolean {
    return this.getUniqueId() === TARGET_PEER_SERVER;
  }

  /**
   * Godot `get_peers`: the ids of the admitted peers, and on a client of a relaying server the
   * other clients it was told of.
   */
  getPeers(): number[] {
    return [...this.links.keys(), ...this.relayed.ids()];
  }

  /** Godot `get_remote_sender_id`: the caller while a call runs (this side's id for a local one); 0 otherwise. */
  getRemoteSenderId(): number {
    return this.rpcs.getRemoteSenderId();
  }

  /**
   * rtcmesh: what the transport, the RPC layer and replication know of a peer: one admitted, one
   * authenticating (its drops while it does), or a client known through the server (`via` 1:
   * no transport stats, the server link's drops, its own authority violations).
   * @throws RtcError ERR_DOES_NOT_EXIST for a peer not connected.
   */
  getPeerStats(peerId: number): RpcPeerStats {
    const relayed = this.relayed.stateOf(peerId);
    const via = relayed ? TARGET_PEER_SERVER : peerId;
    const state = this.links.get(via) ?? this.auth.linkOf(via);
    if (!state) throw new RtcError('ERR_DOES_NOT_EXIST', `peer ${peerId} is not connected: see getPeers() and getAuthenticatingPeers().`);
    const transport = !relayed && this.peer instanceof WebRTCMultiplayerPeer ? this.peer.getPeerStats(peerId) : undefined;
    // Nothing of an authenticating peer reaches replication.
    const replicationDropped = this.links.has(via) ? this.replication.droppedFrom(via) : { ...new PeerReplicationState().dropped };
    return {
      via,
      transport,
      dropped: { ...state.dropped },
      replicationDropped,
      authorityViolations: (relayed ?? state).violations,
    };
  }

  private call(target: RpcTarget<object, string>, method: string, peerId: number, args: unknown[]): boolean {
    this.requirePeer();
    return this.rpcs.call(target, method, peerId, args);
  }

  // What registered objects and entities call through.
  private sender(): { call: MultiplayerAPI['call']; getUniqueId: () => number } {
    return { call: (target, method, peerId, args) => this.call(target, method, peerId, args), getUniqueId: () => this.getUniqueId() };
  }

  // What the path cache, the RPC interface, the relay and replication need of this API.
  private host(): ReplicationHost {
    return {
      selfId: () => this.getUniqueId(),
      isConnected: () => this.peer?.getConnectionStatus() === ConnectionStatus.Connected,
      relays: (target) => this.relays(target),
      targets: (target, exclude) => this.targets(target, exclude),
      countViolation: (sender, path, method) => this.countViolation(sender, path, method),
      reportError: (error, context) => this.emit('error', error, context),
      isServer: () => this.isServer(),
      isRelayTopology: () => this.peer?.isServerRelaySupported() ?? false,
      serverRelay: () => this.serverRelay,
      put: (to, packet, mode, channel) => this.put(to, packet, mode, channel),
      deliverBytes: (sender, bytes) => this.emit('peerPacket', sender, bytes),
      isRelayedPeer: (id) => this.relayed.has(id),
      receivePacket: (from, packet, mode, channel) => this.receive(from, packet, mode, channel),
      networkTime: () => this.getNetworkTime(),
    };
  }

  private checkPath(path: string): void {
    if (typeof path !== 'string' || path.length === 0) throw new RtcError('ERR_INVALID_PARAMETER', 'a path is a non-empty string.');
    // The announcement is what a path must survive on the wire: its encoder checks length and UTF-16.
    this.codec.encodeAnnounce(0, 0, path);
    if (this.paths.get(path)) throw new RtcError('ERR_ALREADY_EXISTS', `${path} is registered already: unregister() it first.`);
  }

  // The multiplayer peer connected `id`: it authenticates first where a callback is set.
  private onPeerConnected(id: number): void {
    if (this.links.has(id) || this.auth.linkOf(id)) return;
    if (!this.callback) {
      this.admit(id, new PeerRpcState());
      return;
    }
    this.auth.begin(id, this.timeoutMs);
    this.emit('peerAuthenticating', id);
  }

  // A peer joins the game: RPCs and replication reach it, and on a relaying server the other clients learn of it.
  private admit(id: number, link: PeerRpcState): void {
    this.links.set(id, link);
    this.replication.onPeerConnected(id);
    this.emit('peerConnected', id);
    if (this.links.get(id) !== link) return;
    this.relayed.onAdmitted(id);
    if (id === TARGET_PEER_SERVER && !this.isServer() && this.peer?.isServerRelaySupported()) {
      this.reachedServer = true;
      this.emit('connectedToServer');
    }
  }

  // A held session is the same peer, still admitted: no authentication, no late join again.
  private onPeerReconnecting(id: number): void {
    if (this.links.has(id)) this.emit('peerReconnecting', id);
  }

  private onPeerReconnected(id: number): void {
    if (this.links.has(id)) this.emit('peerReconnected', id);
  }

  private onPeerDisconnected(id: number): void {
    if (this.auth.linkOf(id)) {
      this.auth.end(id);
      this.emit('peerAuthenticationFailed', id);
      return;
    }
    if (!this.forget(id)) return;
    this.relayed.onRemoved(id);
    // The peers known through the server go before it.
    if (id === TARGET_PEER_SERVER) this.relayed.dropAll();
    this.emit('peerDisconnected', id);
    if (id === TARGET_PEER_SERVER && this.reachedServer) {
      this.reachedServer = false;
      this.emit('serverDisconnected');
    }
  }

  // An authentication failed (timed out, refused, or the callback threw): the peer is cut off.
  private dropAuthenticating(id: number): void {
    const peer = this.peer;
    this.onPeerDisconnected(id);
    if (peer && this.peer === peer) peer.disconnectPeer(id);
  }

  // Moves the network clock toward the reference peer's, as the keepalive estimates its offset.
  private followClock(peer: MultiplayerPeer): void {
    // The offset moves only with a keepalive answer (every 250 ms): no need to read a peer's stats every frame.
    const now = clockMs();
    if (now < this.nextClockFollowAt) return;
    this.nextClockFollowAt = now + CLOCK_FOLLOW_MS;
    const self = peer.getUniqueId();
    let reference = peer.isServerRelaySupported() ? TARGET_PEER_SERVER : self;
    for (const id of this.links.keys()) if (!peer.isServerRelaySupported() && id < reference) reference = id;
    if (reference !== this.clockReference) {
      this.clockReference = reference;
      this.clock.reset();
    }
    if (reference === self || !(peer instanceof WebRTCMultiplayerPeer)) this.clock.update(0);
    else if (this.links.has(reference)) this.clock.update(peer.getPeerStats(reference).clockOffsetMs);
    else this.clock.update(Number.NaN);
  }

  private forget(id: number): boolean {
    if (!this.links.delete(id)) return false;
    this.replication.onPeerDisconnected(id);
    return true;
  }

  /** Follows the peer's status: a peer that was closed takes its connected peers with it. */
  private checkStatus(peer: MultiplayerPeer): void {
    const status = peer.getConnectionStatus();
    const previous = this.lastStatus;
    this.lastStatus = status;
    if (status !== ConnectionStatus.Disconnected || previous === ConnectionStatus.Disconnected) return;
    // A client that never got past authentication with the server did not connect either.
    const client = peer.isServerRelaySupported() && peer.getUniqueId() !== TARGET_PEER_SERVER;
    if (!this.reachedServer && (previous === ConnectionStatus.Connecting || client)) this.emit('connectionFailed');
    for (const id of [...this.auth.peers(), ...this.links.keys()]) {
      if (this.peer !== peer) return;
      this.onPeerDisconnected(id);
    }
  }

  /** Whether a client's packet for `target` must travel through the server. */
  private relays(target: number): boolean {
    return this.serverRelay && !this.isServer() && this.peer!.isServerRelaySupported() && target !== TARGET_PEER_SERVER;
  }

  /** The peers directly admitted a target means: 0 every one, n that one, -n every one but n. */
  private targets(target: number, exclude = 0): number[] {
    if (target > 0) return [target];
    return [...this.links.keys()].filter((id) => id !== -target && id !== exclude);
  }

  // Everything but authentication goes only to admitted peers.
  private put(to: number, packet: Uint8Array, mode: TransferMode, channel: number): boolean {
    return this.links.has(to) && this.putTo(to, packet, mode, channel);
  }

  private putTo(to: number, packet: Uint8Array, mode: TransferMode, channel: number): boolean {
    const peer = this.peer!;
    peer.setTargetPeer(to);
    peer.transferMode = mode;
    peer.transferChannel = channel;
    return peer.putPacket(packet);
  }

  private receive(from: number, packet: Uint8Array, mode: TransferMode, channel: number): void {
    const link = this.links.get(from) ?? this.auth.linkOf(from);
    if (!link) return;
    const decoded = this.codec.decode(packet);
    if (!decoded.ok) {
      link.dropped[decoded.reason]++;
      return;
    }
    const message = decoded.packet;
    if (!this.links.has(from) && !this.auth.receive(from, message)) return;
    switch (message.kind) {
      case 'raw':
        this.emit('peerPacket', from, message.bytes);
        break;
      case 'call':
      case 'entityCall':
        this.rpcs.receive(message, from, link);
        break;
      case 'replication':
        this.replication.receive(from, message.bytes, link, mode, channel);
        break;
      case 'announcePath':
        this.paths.onAnnounce(from, link, message.pathId, message.methodTableHash, message.path);
        break;
      case 'confirmPath':
        this.paths.onConfirm(from, link, message.pathId, message.status);
        break;
      case 'releasePath':
        this.paths.onRelease(link, message.pathId, message.lanes);
        break;
      case 'relay':
        this.relay.receive(from, link, message, mode, channel);
        break;
      case 'auth':
        link.dropped.unexpectedAuth++;
        break;
      case 'authComplete':
        // Late where a game packet on another channel admitted the peer first; harmless anyway.
        break;
      case 'peerAdd':
      case 'peerRemove':
        this.relayed.receive(from, link, message);
        break;
    }
  }

  private countViolation(sender: number, path: string, method: string): void {
    const state = this.links.get(sender) ?? this.relayed.stateOf(sender);
    if (!state) return;
    state.violations++;
    const now = performance.now();
    // Rate-limited: a hostile peer's calls must not flood the game's log.
    if (now - state.lastViolationEventAt >= AUTHORITY_EVENT_INTERVAL_MS) {
      state.lastViolationEventAt = now;
      this.emit('authorityViolation', sender, { path, method, violations: state.violations });
    }
    if (this.isServer() && state.violations >= this.options.maxAuthorityViolations && this.links.get(sender) === state) this.disconnectPeer(sender);
  }

  private requireNode(path: string): RpcNode<object, string> {
    const node = this.getNode(path);
    if (!node) throw new RtcError('ERR_INVALID_PARAMETER', `nothing is registered at ${path}: register() it first.`);
    return node;
  }

  private requirePeer(): MultiplayerPeer {
    if (!this.peer) throw new RtcError('ERR_UNCONFIGURED', 'set multiplayerPeer before calling RPCs or sending bytes.');
    return this.peer;
  }
}
