// The lobby signaling client of docs/wire-format.md, section 5 (Godot's webrtc_signaling demo client): joins a
// lobby over a WebSocket and turns its membership into addPeer calls on a multiplayer peer.
// Browser-safe: the WebSocket is injected, and nothing here imports a Node module.
import { EventEmitter } from 'eventemitter3';
import { ConnectionStatus, WebRTCMultiplayerPeer } from '../mesh/index.js';
import { PeerConnection, RtcError } from '../transport/index.js';
import {
  type ClientSettings,
  SIGNALING_DROP_REASONS,
  type SignalingClientOptions,
  type SignalingDropReason,
  type WebSocketConstructor,
  resolveClientOptions,
} from './client-options.js';
import { applyNegotiation, wireNegotiation } from './peer-negotiation.js';
import { CLOSE_PROTOCOL_ERROR, HOST_PEER_ID, MAX_PEER_ID, MessageType, type SignalingMessage, parseFrame } from './protocol.js';
import { SignalingSocket } from './signaling-socket.js';

/** The events of a {@link SignalingClient}, the Godot demo client's signals; emitted only inside `poll()`. */
export interface SignalingClientEvents {
  /** Godot demo `connected(id, use_mesh)`: the server gave this side `id`, and the multiplayer peer is set up with it. */
  connected: (id: number, mesh: boolean) => void;
  /** Godot demo `lobby_joined(lobby)`: the server confirmed the lobby, by name (a new lobby's is generated). */
  lobbyJoined: (lobby: string) => void;
  /** Godot demo `lobby_sealed()`: the host sealed the lobby; no one else can join, and the links outlive signaling. */
  lobbySealed: () => void;
  /**
   * Godot demo `disconnected()`, with the close code and reason: the server closed the socket (a
   * refused join and a departed host close with 4000, the end of a seal with 1000), the
   * connection failed (1006), or the server broke the protocol (4000). Emitted once; never after `close()`.
   */
  disconnected: (code: number, reason: string) => void;
}

const CLOSE_NORMAL = 1000;
// The exchange (docs/wire-format.md, section 5): the JOIN's id asks for the mode; the ID's data "true" confirms mesh mode.
const JOIN_ID_MESH = 0;
const JOIN_ID_SERVER_MODE = 1;
const ID_DATA_MESH = 'true';

let defaultWebSocket: WebSocketConstructor | undefined;

/**
 * A lobby member: the client of Godot's webrtc_signaling demo. It joins or creates a lobby,
 * sets up its {@link WebRTCMultiplayerPeer} with the id the server gives, and adds a
 * PeerConnection for every member the server introduces, relaying offers, answers and
 * candidates. It attaches itself to the multiplayer peer, whose `poll()` polls it: one poll per
 * frame runs signaling and data together. Whatever the server sends that is malformed or out of
 * place is dropped and counted (`getDroppedMessageCounts`) or ends the session with
 * `disconnected`; nothing from the network throws out of `poll()`.
 */
export class SignalingClient extends EventEmitter<SignalingClientEvents> {
  /**
   * Sets the WebSocket constructor of clients created without `options.WebSocket`; null falls
   * back to `globalThis.WebSocket`. The Node entry of rtcmesh sets `ws`'s.
   */
  static setDefaultWebSocket(ctor: WebSocketConstructor | null): void {
    defaultWebSocket = ctor ?? undefined;
  }

  /** The WebSocket constructor set by {@link setDefaultWebSocket}, or undefined. */
  static getDefaultWebSocket(): WebSocketConstructor | undefined {
    return defaultWebSocket;
  }

  /** The multiplayer peer this client sets up and adds peers to: read packets from it. */
  readonly multiplayerPeer: WebRTCMultiplayerPeer;
  private readonly settings: ClientSettings;
  private started = false;
  // Null before connect() and once the session has ended.
  private socket: SignalingSocket | null = null;
  private uniqueId = 0;
  // The lobby's mode, as the ID message told it.
  private mesh = true;
  private lobby = '';
  private joined = false;
  private sealed = false;
  private readonly connections = new Map<number, PeerConnection>();
  private readonly drops = zeroedDrops();

  /**
   * Checks the options and attaches the client to its multiplayer peer; nothing opens until {@link connect}.
   * @throws RtcError ERR_INVALID_PARAMETER for a bad option; ERR_UNCONFIGURED when there is no
   * WebSocket constructor or no WebRTC backend.
   */
  constructor(options: SignalingClientOptions) {
    super();
    this.settings = resolveClientOptions(options, defaultWebSocket);
    const multiplayerPeer = options.multiplayerPeer ?? new WebRTCMultiplayerPeer();
    if (!(multiplayerPeer instanceof WebRTCMultiplayerPeer)) {
      throw new RtcError('ERR_INVALID_PARAMETER', 'multiplayerPeer is a WebRTCMultiplayerPeer.');
    }
    this.multiplayerPeer = multiplayerPeer;
    multiplayerPeer.signaling = this;
  }

  /**
   * Opens the socket and, once it is open, asks to join the lobby (or create one).
   * @throws RtcError ERR_ALREADY_IN_USE when called before (a client joins once: create another
   * to join again) or while the multiplayer peer is active; ERR_INVALID_PARAMETER when the
   * WebSocket refuses the URL.
   */
  connect(): void {
    if (this.started) {
      throw new RtcError('ERR_ALREADY_IN_USE', 'this client has connected or closed already: create a new SignalingClient to join again.');
    }
    if (this.multiplayerPeer.getConnectionStatus() !== ConnectionStatus.Disconnected) {
      throw new RtcError('ERR_ALREADY_IN_USE', 'the multiplayer peer is active: close() it, or give the client a fresh one.');
    }
    const { mesh, lobby } = this.settings;
    this.socket = new SignalingSocket(this.settings, { type: MessageType.Join, id: mesh ? JOIN_ID_MESH : JOIN_ID_SERVER_MODE, data: lobby });
    this.started = true;
  }

  /**
   * Handles, in arrival order, what the server sent since the last poll, and emits the events.
   * The multiplayer peer calls it at the start of its own `poll()`; call it yourself only if you
   * do not poll the multiplayer peer.
   */
  poll(): void {
    const socket = this.socket;
    if (socket === null) return;
    socket.commit();
    let frame: string | undefined;
    while ((frame = socket.nextFrame()) !== undefined) {
      const parsed = parseFrame(frame, this.settings.maxFrameBytes);
      if (parsed.ok) this.handle(parsed.message);
      else this.fail(parsed.reason);
      // A fault, or a listener that closed the client, ends the poll.
      if (this.socket !== socket) return;
    }
    const ending = socket.ending;
    if (ending !== null) this.finish(ending.code, ending.reason);
  }

  /**
   * Godot demo `seal_lobby`: seals the lobby, so that no one else can join; every member then
   * receives `lobbySealed`, and the server closes every socket (1000) some seconds later.
   * @throws RtcError ERR_UNCONFIGURED before `lobbyJoined`; ERR_UNAUTHORIZED unless this side is the host.
   */
  seal(): void {
    if (this.socket === null || !this.joined) {
      throw new RtcError('ERR_UNCONFIGURED', 'seal() needs a joined lobby: call it after lobbyJoined.');
    }
    if (this.uniqueId !== HOST_PEER_ID) {
      throw new RtcError('ERR_UNAUTHORIZED', 'only the lobby host (peer 1) may seal the lobby.');
    }
    this.socket.send({ type: MessageType.Seal, id: 0, data: '' });
  }

  /**
   * Closes the socket and drops what is queued; emits nothing further. The multiplayer peer and
   * its links are left as they are: close it too to end the game.
   */
  close(): void {
    this.socket?.close(CLOSE_NORMAL, 'client closed');
    this.stop();
  }

  /** The lobby's name, as the server confirmed it (`lobbyJoined`); `''` before. */
  getLobby(): string {
    return this.lobby;
  }

  /** This side's peer id in the lobby (1 for the host), as of the last poll; 0 before the server gave one. */
  getUniqueId(): number {
    return this.uniqueId;
  }

  /** Whether the host has sealed the lobby, as of the last poll. */
  isSealed(): boolean {
    return this.sealed;
  }

  /** Messages from the server dropped, for any reason. */
  getDroppedMessageCount(): number {
    return SIGNALING_DROP_REASONS.reduce((sum, reason) => sum + this.drops[reason], 0);
  }

  /** Messages from the server dropped, by reason. */
  getDroppedMessageCounts(): Record<SignalingDropReason, number> {
    return { ...this.drops };
  }

  private handle(message: SignalingMessage): void {
    switch (message.type) {
      case MessageType.Id:
        return this.start(message);
      case MessageType.Join:
        if (this.uniqueId === 0 || this.joined) return this.drop('unexpected');
        this.joined = true;
        this.lobby = message.data;
        this.emit('lobbyJoined', message.data);
        return;
      case MessageType.PeerConnect:
        return this.introduce(message.id);
      case MessageType.PeerDisconnect:
        return this.depart(message.id);
      case MessageType.Offer:
      case MessageType.Answer:
      case MessageType.Candidate: {
        const connection = this.connections.get(message.id);
        if (connection === undefined) return this.drop('unknownPeer');
        const dropped = applyNegotiation(connection, message);
        if (dropped !== null) this.drop(dropped);
        return;
      }
      case MessageType.Seal:
        if (!this.joined || this.sealed) return this.drop('unexpected');
        this.sealed = true;
        this.emit('lobbySealed');
        return;
    }
  }

  /** ID: sets up the multiplayer peer in the topology the lobby's mode calls for. */
  private start({ id, data }: SignalingMessage): void {
    if (this.uniqueId !== 0) return this.drop('unexpected');
    const { channelsConfig, requireMode } = this.settings;
    if (id < 1 || id > MAX_PEER_ID) return this.fail(`the server assigned the invalid peer id ${id}`);
    // The lobby's creator set its mode; a joiner that asked for the other one follows it, as Godot's client does.
    const mesh = data === ID_DATA_MESH;
    if (requireMode && mesh !== this.settings.mesh) {
      return this.fail(`the lobby is in ${mesh ? 'mesh' : 'server'} mode, and requireMode asked for the other`);
    }
    try {
      if (mesh) this.multiplayerPeer.createMesh(id, channelsConfig);
      else if (id === HOST_PEER_ID) this.multiplayerPeer.createServer(channelsConfig);
      else this.multiplayerPeer.createClient(id, channelsConfig);
    } catch (error) {
      // The game activated the multiplayer peer itself since connect().
      if (error instanceof RtcError) return this.fail(`the multiplayer peer cannot start: ${error.message}`);
      throw error;
    }
    this.uniqueId = id;
    this.mesh = mesh;
    this.emit('connected', id, mesh);
  }

  /** PEER_CONNECT: a PeerConnection for the peer, offered to it when its id is lower than ours. */
  private introduce(peerId: number): void {
    if (this.uniqueId === 0 || this.sealed) return this.drop('unexpected');
    if (!this.mayConnectTo(peerId)) return this.drop('peerNotAllowed');
    if (this.connections.size >= this.settings.maxPeers) return this.drop('tooManyPeers');
    const connection = new PeerConnection();
    connection.initialize(this.settings.peerConfig);
    try {
      this.multiplayerPeer.addPeer(connection, peerId, this.settings.unreliableLifetime);
    } catch (error) {
      connection.close();
      if (error instanceof RtcError) return this.drop('refused');
      throw error;
    }
    this.connections.set(peerId, connection);
    wireNegotiation(connection, peerId, this.sendMessage);
    // The exchange (docs/wire-format.md, section 5): a member offers to every member whose id is lower, so the host never offers.
    if (this.uniqueId > peerId) connection.createOffer();
  }

  /** Whether the lobby's topology lets this side connect to `peerId`: a client connects to the host only. */
  private mayConnectTo(peerId: number): boolean {
    if (peerId < 1 || peerId > MAX_PEER_ID || peerId === this.uniqueId || this.connections.has(peerId)) return false;
    return this.mesh || this.uniqueId === HOST_PEER_ID || peerId === HOST_PEER_ID;
  }

  /** PEER_DISCONNECT: the peer left the lobby, so its link goes too. */
  private depart(peerId: number): void {
    // After the seal the links outlive signaling: leaving the lobby is not leaving the game.
    if (this.sealed) return;
    const connection = this.connections.get(peerId);
    if (connection === undefined) return this.drop('unknownPeer');
    this.connections.delete(peerId);
    // The multiplayer peer may have dropped the peer already (its link failed).
    if (this.multiplayerPeer.hasPeer(peerId) && this.multiplayerPeer.getPeer(peerId).connection === connection) {
      this.multiplayerPeer.removePeer(peerId);
    }
  }

  private drop(reason: SignalingDropReason): void {
    this.drops[reason]++;
  }

  /** A fault that ends the session at once: closes the socket with 4000 and reports why. */
  private fail(reason: string): void {
    this.socket?.close(CLOSE_PROTOCOL_ERROR, reason);
    this.finish(CLOSE_PROTOCOL_ERROR, reason);
  }

  private finish(code: number, reason: string): void {
    this.stop();
    this.emit('disconnected', code, reason);
  }

  private stop(): void {
    // A client closed before connect() does not connect afterwards either.
    this.started = true;
    this.socket = null;
    this.connections.clear();
  }

  // Bound once: every connection's negotiation sends through it, to whichever socket is current.
  private readonly sendMessage = (message: SignalingMessage): void => this.socket?.send(message);
}

function zeroedDrops(): Record<SignalingDropReason, number> {
  return Object.fromEntries(SIGNALING_DROP_REASONS.map((reason) => [reason, 0])) as Record<SignalingDropReason, number>;
}
