import { EventEmitter } from 'eventemitter3';
import { MultiplayerPeer } from '../mesh/multiplayer-peer.js';
import type { PeerStats } from '../mesh/peer-stats.js';
import { ConnectionStatus, TARGET_PEER_SERVER, TransferMode } from '../mesh/transfer.js';
import { WebRTCMultiplayerPeer } from '../mesh/webrtc-multiplayer-peer.js';
import { RtcError } from '../transport/errors.js';
import { resolvePositiveIntegers } from '../transport/options.js';
import { type CallPacket, PathStatus, type RelayPacket, RpcCodec } from './codec.js';
import { PeerRpcState, type RpcDropReason } from './peer-rpc-state.js';
import type { RpcLimits } from './rpc-limits.js';
import { type MethodNames, type RpcConfigMap, type RpcMethod, RpcNode, type RpcSender } from './rpc-node.js';

/** The options of a {@link MultiplayerAPI}. */
export interface MultiplayerAPIOptions {
  /** Bounds on every RPC packet; both ends must agree. Defaults: the codec's (`DEFAULT_RPC_LIMITS`). */
  limits?: Partial<RpcLimits>;
  /** Calls to `authority` methods a peer may make without authority before the server drops it. Default 10. */
  maxAuthorityViolations?: number;
  /** Paths one peer may announce. Default 1024. */
  maxPathsPerPeer?: number;
}

/** What `MultiplayerAPI.getPeerStats` tells: the transport's figures and the RPC layer's drops. */
export interface RpcPeerStats {
  /** The multiplayer peer's stats for this peer, where it keeps any (WebRTCMultiplayerPeer does). */
  transport: PeerStats | undefined;
  /** Packets the RPC layer dropped from this peer, by reason. */
  dropped: Record<RpcDropReason, number>;
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

/** The events of a {@link MultiplayerAPI}, Godot's SceneMultiplayer signals; all inside `poll()`. */
export interface MultiplayerAPIEvents {
  peerConnected: (id: number) => void;
  peerDisconnected: (id: number) => void;
  /** A client reached the server. */
  connectedToServer: () => void;
  /** A client could not reach the server. */
  connectionFailed: () => void;
  /** A client lost the server. */
  serverDisconnected: () => void;
  /** Godot `peer_packet`: bytes a peer sent with `sendBytes`. */
  peerPacket: (id: number, bytes: Uint8Array) => void;
  /** rtcmesh: a handler threw, or two builds disagree on a path's methods. */
  error: (error: Error, context: RpcErrorContext) => void;
}

const DEFAULTS = { maxAuthorityViolations: 10, maxPathsPerPeer: 1024 };
// One slot per transfer channel (0-255) and transfer mode (0-2), to key a path's announcement by lane.
const LANES_PER_PATH = 256 * 3;

/**
 * The high-level multiplayer API: Godot's `SceneMultiplayer`. Objects registered under a path
 * are called remotely with `rpc`/`rpcId`; one `poll()` per frame drives the multiplayer peer,
 * the signaling client attached to it, and the RPCs.
 */
export class MultiplayerAPI extends EventEmitter<MultiplayerAPIEvents> implements RpcSender {
  /** Godot `server_relay`: in server/client topology, clients reach each other through the server. */
  serverRelay = true;
  private peer: MultiplayerPeer | null = null;
  private readonly codec: RpcCodec;
  private readonly options: typeof DEFAULTS;
  private readonly nodes = new Map<string, RpcNode<object, string>>();
  private nextPathId = 1;
  private readonly peers = new Map<number, PeerRpcState>();
  private remoteSenderId = 0;
  private lastStatus = ConnectionStatus.Disconnected;
  private reachedServer = false;

  constructor(options: MultiplayerAPIOptions = {}) {
    super();
    this.codec = new RpcCodec(options.limits);
    this.options = resolvePositiveIntegers(DEFAULTS, options);
  }

  /** Godot `multiplayer_peer`: the peer this API runs on; setting another detaches the old one. */
  get multiplayerPeer(): MultiplayerPeer | null {
    return this.peer;
  }

  set multiplayerPeer(peer: MultiplayerPeer | null) {
    if (peer !== null && !(peer instanceof MultiplayerPeer)) {
      throw new RtcError('ERR_INVALID_PARAMETER', 'multiplayerPeer is a MultiplayerPeer (such as WebRTCMultiplayerPeer) or null.');
    }
    this.peer?.off('peerConnected', this.onPeerConnected, this);
    this.peer?.off('peerDisconnected', this.onPeerDisconnected, this);
    this.peers.clear();
    this.peer = peer;
    this.lastStatus = peer?.getConnectionStatus() ?? ConnectionStatus.Disconnected;
    this.reachedServer = false;
    peer?.on('peerConnected', this.onPeerConnected, this);
    peer?.on('peerDisconnected', this.onPeerDisconnected, this);
  }

  /**
   * Registers `target` under `path` with a config for each method that may be called remotely,
   * and returns the handle whose `rpc`/`rpcId` are typed by those methods.
   * @throws RtcError ERR_ALREADY_EXISTS for a path taken; ERR_INVALID_PARAMETER for a bad path or config.
   */
  register<T extends object, C extends RpcConfigMap<T>>(path: string, target: T, config: C): RpcNode<T, keyof C & MethodNames<T>> {
    if (typeof path !== 'string' || path.length === 0) throw new RtcError('ERR_INVALID_PARAMETER', 'a path is a non-empty string.');
    // The announcement is what a path must survive on the wire: its encoder checks length and UTF-16.
    this.codec.encodeAnnounce(0, 0, path);
    if (this.nodes.has(path)) throw new RtcError('ERR_ALREADY_EXISTS', `${path} is registered already: unregister() it first.`);
    const node = new RpcNode(this, path, this.nextPathId++, target, config);
    this.nodes.set(path, node as RpcNode<object, string>);
    return node as RpcNode<T, keyof C & MethodNames<T>>;
  }

  /** Removes the object at `path`; calls to it are refused from now on. */
  unregister(path: string): void {
    this.nodes.delete(path);
  }

  /** The node registered at `path`, if any. */
  getNode(path: string): RpcNode<object, string> | undefined {
    return this.nodes.get(path);
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
    if (this.relays(id)) return this.put(TARGET_PEER_SERVER, this.codec.encodeRelay(id, packet), mode, channel);
    let sent = true;
    for (const target of this.targets(id)) sent = this.put(target, packet, mode, channel) && sent;
    return sent;
  }

  /** Godot `poll`: polls the multiplayer peer (and its signaling), then runs what arrived. */
  poll(): void {
    const peer = this.peer;
    if (!peer) return;
    peer.poll();
    if (this.peer !== peer) return;
    this.checkStatus(peer);
    // getPacketPeer() is 0 once nothing is left: cheaper per packet than counting every peer's queue.
    for (let from = peer.getPacketPeer(); from !== 0 && this.peer === peer; from = peer.getPacketPeer()) {
      const mode = peer.getPacketMode();
      const channel = peer.getPacketChannel();
      const packet = peer.getPacket();
      if (packet && this.peers.has(from)) this.receive(from, packet, mode, channel);
    }
  }

  /** Godot `get_unique_id`: this side's peer id; 0 without a multiplayer peer. */
  getUniqueId(): number {
    return this.peer?.getUniqueId() ?? 0;
  }

  /** Godot `is_server`: whether this side is peer 1. */
  isServer(): boolean {
    return this.getUniqueId() === TARGET_PEER_SERVER;
  }

  /** Godot `get_peers`: the ids of the connected peers. */
  getPeers(): number[] {
    return [...this.peers.keys()];
  }

  /** Godot `get_remote_sender_id`: the caller while a call runs (this side's id for a local one); 0 otherwise. */
  getRemoteSenderId(): number {
    return this.remoteSenderId;
  }

  /**
   * rtcmesh: what the transport and the RPC layer know of a peer.
   * @throws RtcError ERR_DOES_NOT_EXIST for a peer not connected.
   */
  getPeerStats(peerId: number): RpcPeerStats {
    const state = this.peers.get(peerId);
    if (!state) throw new RtcError('ERR_DOES_NOT_EXIST', `peer ${peerId} is not connected: see getPeers().`);
    const transport = this.peer instanceof WebRTCMultiplayerPeer ? this.peer.getPeerStats(peerId) : undefined;
    return { transport, dropped: { ...state.dropped }, authorityViolations: state.violations };
  }

  /** @internal The one way out for every call, typed or not. */
  call(node: RpcNode<object, string>, methodName: string, target: number, args: unknown[]): boolean {
    const method = node.method(methodName);
    if (args.length > method.arity) {
      throw new RtcError('ERR_INVALID_PARAMETER', `${node.path}.${method.name} takes ${method.arity} arguments, not ${args.length}.`);
    }
    const peer = this.requirePeer();
    if (!Number.isInteger(target)) throw new RtcError('ERR_INVALID_PARAMETER', 'a target is a peer id: 0 everyone, n one peer, -n everyone but n.');
    const self = peer.getUniqueId();
    if (target === self && self !== 0) {
      if (!method.callLocal) {
        throw new RtcError('ERR_INVALID_PARAMETER', `rpcId() to yourself runs only a callLocal method; ${method.name} is not.`);
      }
      this.invoke(node, method, args, self);
      return true;
    }
    if (peer.getConnectionStatus() !== ConnectionStatus.Connected) return false;
    const packet = this.codec.encodeCall(node.pathId, method.id, args);
    let sent = true;
    if (this.relays(target)) {
      sent = this.deliver(TARGET_PEER_SERVER, node, this.codec.encodeRelay(target, packet), method.transferMode, method.channel);
    } else {
      for (const to of this.targets(target)) sent = this.deliver(to, node, packet, method.transferMode, method.channel) && sent;
    }
    if (method.callLocal && (target === 0 || (target < 0 && -target !== self))) this.invoke(node, method, args, self);
    return sent;
  }

  private onPeerConnected(id: number): void {
    this.peers.set(id, new PeerRpcState());
    this.emit('peerConnected', id);
    if (id === TARGET_PEER_SERVER && !this.isServer() && this.peer?.isServerRelaySupported()) {
      this.reachedServer = true;
      this.emit('connectedToServer');
    }
  }

  private onPeerDisconnected(id: number): void {
    if (!this.peers.delete(id)) return;
    this.emit('peerDisconnected', id);
    if (id === TARGET_PEER_SERVER && this.reachedServer) {
      this.reachedServer = false;
      this.emit('serverDisconnected');
    }
  }

  /** Follows the peer's status: a peer that was closed takes its connected peers with it. */
  private checkStatus(peer: MultiplayerPeer): void {
    const status = peer.getConnectionStatus();
    const previous = this.lastStatus;
    this.lastStatus = status;
    if (status !== ConnectionStatus.Disconnected || previous === ConnectionStatus.Disconnected) return;
    if (previous === ConnectionStatus.Connecting && !this.reachedServer) this.emit('connectionFailed');
    for (const id of [...this.peers.keys()]) {
      if (this.peer !== peer) return;
      this.onPeerDisconnected(id);
    }
  }

  /** Whether a client's packet for `target` must travel through the server. */
  private relays(target: number): boolean {
    return this.serverRelay && !this.isServer() && this.peer!.isServerRelaySupported() && target !== TARGET_PEER_SERVER;
  }

  /** The connected peers a target means: 0 every one, n that one, -n every one but n. */
  private targets(target: number, exclude = 0): number[] {
    if (target > 0) return [target];
    return this.getPeers().filter((id) => id !== -target && id !== exclude);
  }

  /**
   * Sends a packet that uses `node`'s path id to one peer, announcing the path until the peer
   * confirms it. The announcement travels on the call's own channel, just before it: in order on a
   * reliable channel (once per channel), in the same batch on an unreliable one (again with each
   * call until confirmed, since either may be lost).
   */
  private deliver(to: number, node: RpcNode<object, string>, packet: Uint8Array, mode: TransferMode, channel: number): boolean {
    const state = this.peers.get(to);
    if (!state) return this.put(to, packet, mode, channel);
    const announced = state.sent.get(node.pathId);
    if (announced === 'refused') {
      state.dropped.pathRefused++;
      return false;
    }
    if (announced !== 'confirmed') {
      const lane = node.pathId * LANES_PER_PATH + channel * 3 + mode;
      if (mode !== TransferMode.Reliable || !state.announcedOn.has(lane)) {
        state.announcedOn.add(lane);
        state.sent.set(node.pathId, 'announced');
        this.put(to, this.codec.encodeAnnounce(node.pathId, node.table.hash, node.path), mode, channel);
      }
    }
    return this.put(to, packet, mode, channel);
  }

  private put(to: number, packet: Uint8Array, mode: TransferMode, channel: number): boolean {
    const peer = this.peer!;
    peer.setTargetPeer(to);
    peer.transferMode = mode;
    peer.transferChannel = channel;
    return peer.putPacket(packet);
  }

  private receive(from: number, packet: Uint8Array, mode: TransferMode, channel: number): void {
    const state = this.peers.get(from)!;
    const decoded = this.codec.decode(packet);
    if (!decoded.ok) {
      state.dropped[decoded.reason]++;
      return;
    }
    const message = decoded.packet;
    switch (message.kind) {
      case 'raw':
        this.emit('peerPacket', from, message.bytes);
        break;
      case 'call':
        this.dispatch(message, from, state);
        break;
      case 'announcePath':
        this.answerAnnounce(from, state, message.pathId, message.methodTableHash, message.path);
        break;
      case 'confirmPath':
        this.takeConfirmation(from, state, message.pathId, message.status);
        break;
      case 'relay':
        this.relay(from, state, message, mode, channel);
        break;
    }
  }

  private answerAnnounce(from: number, state: PeerRpcState, pathId: number, hash: number, path: string): void {
    const known = state.received.get(pathId);
    if (known) {
      // A path id names one path for the life of the link: a repeat is confirmed again, a change refused.
      if (known.path === path && known.table.hash === hash) this.put(from, this.codec.encodeConfirm(pathId, PathStatus.Ok), TransferMode.Reliable, 0);
      else state.dropped.pathConflict++;
      return;
    }
    if (known === undefined && state.received.size >= this.options.maxPathsPerPeer) {
      state.dropped.tooManyPaths++;
      return;
    }
    const node = this.nodes.get(path);
    let status = PathStatus.Ok;
    if (!node) status = PathStatus.UnknownPath;
    else if (node.table.hash !== hash) status = PathStatus.MethodTableMismatch;
    state.received.set(pathId, status === PathStatus.Ok ? node! : null);
    if (status !== PathStatus.Ok) this.reportPath(from, path, status, 'announced');
    this.put(from, this.codec.encodeConfirm(pathId, status), TransferMode.Reliable, 0);
  }

  private takeConfirmation(from: number, state: PeerRpcState, pathId: number, status: PathStatus): void {
    if (state.sent.get(pathId) !== 'announced') return;
    state.sent.set(pathId, status === PathStatus.Ok ? 'confirmed' : 'refused');
    if (status !== PathStatus.Ok) {
      const path = [...this.nodes.values()].find((node) => node.pathId === pathId)?.path ?? `#${pathId}`;
      this.reportPath(from, path, status, 'refused');
    }
  }

  private reportPath(peerId: number, path: string, status: PathStatus, how: 'announced' | 'refused'): void {
    const fault =
      status === PathStatus.UnknownPath
        ? how === 'announced' ? `peer ${peerId} calls ${path}, which is not registered here` : `peer ${peerId} has nothing registered at ${path}`
        : `${path} has different RPC methods on peer ${peerId} and here: the two builds disagree`;
    this.emit('error', new RtcError('ERR_INVALID_DATA', `${fault}; its calls are refused.`), { peerId, path });
  }

  /** Resolves and checks a call: the method exists, the argument count fits, the sender may call it. */
  private resolveCall(call: CallPacket, sender: number, via: PeerRpcState): { node: RpcNode<object, string>; method: RpcMethod } | undefined {
    const node = via.received.get(call.pathId);
    if (!node || this.nodes.get(node.path) !== node) {
      via.dropped.unknownPath++;
      return undefined;
    }
    const method = node.methods[call.methodId];
    if (!method) {
      via.dropped.unknownMethod++;
      return undefined;
    }
    if (call.args.length > method.arity) {
      via.dropped.argumentCount++;
      return undefined;
    }
    if (method.mode === 'authority' && sender !== node.getMultiplayerAuthority()) {
      via.dropped.notAuthority++;
      this.countViolation(sender);
      return undefined;
    }
    return { node, method };
  }

  private dispatch(call: CallPacket, sender: number, via: PeerRpcState): void {
    const resolved = this.resolveCall(call, sender, via);
    if (resolved) this.invoke(resolved.node, resolved.method, call.args, sender);
  }

  /**
   * A RELAY: on the server, a client's packet for other peers, forwarded stamped with the client's
   * id; on a client, such a forwarded packet from the server. Anywhere else it is refused.
   */
  private relay(from: number, state: PeerRpcState, message: RelayPacket, mode: TransferMode, channel: number): void {
    const relayTopology = this.peer!.isServerRelaySupported();
    if (!relayTopology) {
      state.dropped.badRelay++;
      return;
    }
    if (!this.isServer()) {
      const sender = message.peerId;
      if (from !== TARGET_PEER_SERVER || sender < 2 || sender === this.getUniqueId()) {
        state.dropped.badRelay++;
        return;
      }
      if (message.inner.kind === 'raw') this.emit('peerPacket', sender, message.inner.bytes);
      else this.dispatch(message.inner, sender, state);
      return;
    }
    if (!this.serverRelay) {
      state.dropped.badRelay++;
      return;
    }
    const target = message.peerId;
    const local = target === 0 || target === TARGET_PEER_SERVER || (target < 0 && target !== -TARGET_PEER_SERVER);
    const onward = this.targets(target, from).filter((id) => id !== TARGET_PEER_SERVER && id !== from);
    if (message.inner.kind === 'raw') {
      if (local) this.emit('peerPacket', from, message.inner.bytes);
      const forwarded = this.codec.encodeRelay(from, message.innerBytes);
      for (const to of onward) this.put(to, forwarded, mode, channel);
      return;
    }
    const resolved = this.resolveCall(message.inner, from, state);
    if (!resolved) return;
    const { node, method } = resolved;
    if (onward.length > 0) {
      let forwarded: Uint8Array;
      try {
        forwarded = this.codec.encodeRelay(from, this.codec.readdressCall(message.innerBytes, node.pathId));
      } catch {
        // Only a call at the very size limit, whose path id grows by a byte, cannot be forwarded.
        state.dropped.oversized++;
        forwarded = new Uint8Array(0);
      }
      if (forwarded.length > 0) for (const to of onward) this.deliver(to, node, forwarded, mode, channel);
    }
    if (local) this.invoke(node, method, message.inner.args, from);
  }

  private countViolation(sender: number): void {
    const state = this.peers.get(sender);
    if (!state) return;
    state.violations++;
    if (this.isServer() && state.violations >= this.options.maxAuthorityViolations && this.peer instanceof WebRTCMultiplayerPeer && this.peer.hasPeer(sender)) {
      this.peer.disconnectPeer(sender);
    }
  }

  private invoke(node: RpcNode<object, string>, method: RpcMethod, args: readonly unknown[], sender: number): void {
    const previous = this.remoteSenderId;
    this.remoteSenderId = sender;
    try {
      (node.target as Record<string, (...values: unknown[]) => unknown>)[method.name]!(...args);
    } catch (error) {
      this.emit('error', error instanceof Error ? error : new Error(String(error)), { peerId: sender, path: node.path, method: method.name });
    } finally {
      this.remoteSenderId = previous;
    }
  }

  private requireNode(path: string): RpcNode<object, string> {
    const node = this.nodes.get(path);
    if (!node) throw new RtcError('ERR_INVALID_PARAMETER', `nothing is registered at ${path}: register() it first.`);
    return node;
  }

  private requirePeer(): MultiplayerPeer {
    if (!this.peer) throw new RtcError('ERR_UNCONFIGURED', 'set multiplayerPeer before calling RPCs or sending bytes.');
    return this.peer;
  }
}

