// The lobby signaling client of docs/wire-format.md, section 5 (Godot's webrtc_signaling demo client): joins a
// lobby over a WebSocket and turns its membership into addPeer calls on a multiplayer peer.
// Browser-safe: the WebSocket is injected, and nothing here imports a Node module.
import { EventEmitter } from 'eventemitter3';
import { ConnectionStatus, WebRTCMultiplayerPeer } from '../mesh/index.js';
import { ConnectionState, PeerConnection, RtcError, SignalingState } from '../transport/index.js';
import {
  type ClientSettings,
  SIGNALING_DROP_REASONS,
  type SignalingClientOptions,
  type SignalingDropReason,
  type WebSocketConstructor,
  resolveClientOptions,
} from './client-options.js';
import { applyNegotiation, wireNegotiation } from './peer-negotiation.js';
import { CLOSE_PROTOCOL_ERROR, HOST_PEER_ID, MAX_PEER_ID, MessageType, type SignalingMessage, TURN_REFRESH_DATA, parseFrame } from './protocol.js';
import { SignalingSocket } from './signaling-socket.js';
import { TurnGrant } from './turn-grant.js';

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
   * With a session token, a lost socket is rejoined first: this comes only if that fails.
   */
  disconnected: (code: number, reason: string) => void;
  /** rtcmesh: the socket was lost; the client is rejoining the lobby with its session token. */
  rejoining: (code: number, reason: string) => void;
  /** rtcmesh: the client is back in its lobby with the same id; its peers resume their sessions. */
  rejoined: (id: number) => void;
  /**
   * rtcmesh: the connection to `peerId` did not come up within `negotiationTimeoutMs` or failed,
   * and why; the side that offers offers again on a new connection.
   */
  negotiationFailed: (peerId: number, reason: string) => void;
}

const CLOSE_NORMAL = 1000;
/** Between two attempts to rejoin signaling while the server is unreachable. */
const REJOIN_RETRY_MS = 250;
/**
 * A new connection offered to a held peer that is not up this long after it was offered is
 * replaced by another: while the link is still cut its ICE checks fail, and libdatachannel takes
 * far longer than the grace to say so. Past a DTLS retransmit (1 s) on a loaded machine.
 */
const RESUME_RETRY_MS = 2000;
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
  /** The latest session token the server issued; '' while resumption is off. */
  private token: string;
  /** While the lost socket is being rejoined: until when, and when the next attempt may go. */
  private rejoin: { until: number; retryAt: number; code: number; reason: string } | null = null;
  /** The client made its multiplayer peer, with its own `reconnectGraceMs`. */
  private readonly ownsPeer: boolean;
  /** The server has given the seat back; its JOIN confirmation is still to come. */
  private rejoinConfirmation = false;
  /** The peers whose current connection has taken an offer: another offer is a resumption. */
  private readonly answered = new Set<number>();
  /** Connections this side offered to resume a held peer, and when. */
  private readonly resumeAttempts = new Map<number, { connection: PeerConnection; at: number }>();
  /** New connections not up yet: when each was made, and the local candidates it gathered. */
  private readonly negotiations = new Map<number, { connection: PeerConnection; at: number; candidates: number }>();
  /** TURN credentials from the server, when it hands them. */
  private readonly turn = new TurnGrant();

  /**
   * Checks the options and attaches the client to its multiplayer peer; nothing opens until {@link connect}.
   * @throws RtcError ERR_INVALID_PARAMETER for a bad option; ERR_UNCONFIGURED when there is no
   * WebSocket constructor or no WebRTC backend.
   */
  constructor(options: SignalingClientOptions) {
    super();
    this.settings = resolveClientOptions(options, defaultWebSocket);
    this.token = this.settings.token;
    const multiplayerPeer = options.multiplayerPeer ?? new WebRTCMultiplayerPeer({ reconnectGraceMs: this.settings.reconnectGraceMs });
    if (!(multiplayerPeer instanceof WebRTCMultiplayerPeer)) {
      throw new RtcError('ERR_INVALID_PARAMETER', 'multiplayerPeer is a WebRTCMultiplayerPeer.');
    }
    this.multiplayerPeer = multiplayerPeer;
    this.ownsPeer = options.multiplayerPeer === undefined;
    multiplayerPeer.signaling = this;
    multiplayerPeer.on('peerReconnecting', (id) => this.offerResumption(id));
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
    const token = this.token === '' ? {} : { token: this.token };
    this.socket = new SignalingSocket(this.settings, { ...this.joinMessage(), ...token });
    this.started = true;
  }

  /**
   * Handles, in arrival order, what the server sent since the last poll, and emits the events.
   * The multiplayer peer calls it at the start of its own `poll()`; call it yourself only if you
   * do not poll the multiplayer peer.
   */
  poll(): void {
    if (this.rejoin !== null && !this.pollRejoin()) return;
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
    if (ending !== null) {
      this.socketEnded(ending.code, ending.reason);
      return;
    }
    this.retryResumptions();
    this.watchNegotiations();
    if (this.joined && this.turn.active && this.turn.due(Date.now())) socket.send({ type: MessageType.Id, id: 0, data: TURN_REFRESH_DATA });
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

  /**
   * rtcmesh: the latest session token the server issued (a new one with each rejoin), or `''`
   * when the server has resumption off. Store it to rejoin as this member from another process
   * (`SignalingClient` option `token`) within the server's grace.
   */
  getSessionToken(): string {
    return this.token;
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
        if (this.rejoinConfirmation) {
          // The confirmation of a rejoin: the same lobby, already announced.
          this.rejoinConfirmation = false;
          this.emit('rejoined', this.uniqueId);
          return;
        }
        if (this.uniqueId === 0 || this.joined) return this.drop('unexpected');
        this.joined = true;
        this.lobby = message.data;
        this.emit('lobbyJoined', message.data);
        return;
      case MessageType.PeerConnect:
        return this.reintroduce(message.id, message.resume === true);
      case MessageType.PeerDisconnect:
        return this.depart(message.id);
      case MessageType.Offer:
      case MessageType.Answer:
      case MessageType.Candidate: {
        let connection = this.connections.get(message.id);
        if (connection === undefined) return this.drop('unknownPeer');
        if (message.type === MessageType.Offer) {
          // A second offer on a connection already negotiated: the peer resumes on a new one, or
          // (not up yet) offers again after a lost message or a failure.
          if (this.answered.has(message.id) && this.mayResume(message.id)) connection = this.replaceConnection(message.id);
          else if (this.answered.has(message.id) && !this.isUp(message.id)) connection = this.renegotiate(message.id);
          if (connection === undefined) return this.drop('refused');
          this.answered.add(message.id);
        }
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
  private start({ id, data, token, turn }: SignalingMessage): void {
    if (turn !== undefined && !this.turn.take(turn, Date.now())) this.drop('unexpected');
    // The answer to a request for fresh TURN credentials.
    if (this.uniqueId !== 0 && this.joined && turn !== undefined) return;
    if (this.uniqueId !== 0 && this.joined) return this.drop('unexpected');
    if (this.uniqueId !== 0) {
      // The answer to a rejoin: the seat comes back with the same id, or the session is over.
      if (id !== this.uniqueId) return this.fail(`the server gave id ${id} on rejoining, not ${this.uniqueId}`);
      if (token !== undefined) this.token = token;
      // Seated again: the introductions that follow may be answered at once.
      this.joined = true;
      this.rejoinConfirmation = true;
      this.rejoin = null;
      return;
    }
    if (token !== undefined) this.token = token;
    // A server that issues no token resumes nothing: a lost peer is dropped at once, as without resumption.
    if (token === undefined && this.ownsPeer && this.multiplayerPeer.getPeers().size === 0) this.multiplayerPeer.setReconnectGraceMs(0);
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

  /**
   * PEER_CONNECT, for a peer already known too: with `resume`, the held session with it resumes
   * on a new connection; otherwise whatever was known of it is gone, and it is introduced anew.
   */
  private reintroduce(peerId: number, resume: boolean): void {
    if (this.uniqueId === 0) return this.drop('unexpected');
    if (resume && this.mayResume(peerId)) {
      if (this.uniqueId > peerId) this.offerResumption(peerId, true);
      return;
    }
    if (this.connections.has(peerId) && this.token !== '') this.forget(peerId);
    this.introduce(peerId);
  }

  /** PEER_CONNECT: a PeerConnection for the peer, offered to it when its id is lower than ours. */
  private introduce(peerId: number): void {
    // After the seal only members returning with a token are introduced, and only with resumption on.
    if (this.uniqueId === 0 || (this.sealed && this.token === '')) return this.drop('unexpected');
    if (!this.mayConnectTo(peerId)) return this.drop('peerNotAllowed');
    if (this.connections.size >= this.settings.maxPeers) return this.drop('tooManyPeers');
    const connection = this.newConnection();
    try {
      this.multiplayerPeer.addPeer(connection, peerId, this.settings.unreliableLifetime);
    } catch (error) {
      connection.close();
      if (error instanceof RtcError) return this.drop('refused');
      throw error;
    }
    this.connections.set(peerId, connection);
    this.negotiate(connection, peerId);
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
    // After the seal the links outlive signaling: leaving the lobby is not leaving the game. With
    // resumption on, members stay on signaling, and a departure is the end of a session.
    if (this.sealed && this.token === '') return;
    if (!this.connections.has(peerId)) return this.drop('unknownPeer');
    this.forget(peerId);
  }

  /** Ends what this side knows of a peer: its connection, and its session in the multiplayer peer. */
  private forget(peerId: number): void {
    const connection = this.connections.get(peerId);
    this.connections.delete(peerId);
    this.answered.delete(peerId);
    this.resumeAttempts.delete(peerId);
    this.negotiations.delete(peerId);
    // The multiplayer peer may have dropped the peer already (its link failed).
    if (this.multiplayerPeer.hasPeer(peerId) && this.multiplayerPeer.getPeer(peerId).connection === connection) {
      this.multiplayerPeer.removePeer(peerId);
    }
  }

  /** Whether the session with `peerId` can resume on a new connection: it is known, connected, resumable. */
  private mayResume(peerId: number): boolean {
    return (
      this.token !== '' &&
      this.multiplayerPeer.getReconnectGraceMs() > 0 &&
      this.connections.has(peerId) &&
      this.multiplayerPeer.hasPeer(peerId) &&
      this.multiplayerPeer.getPeer(peerId).connected
    );
  }

  /** A new connection for `peerId`'s session, in place of the current one; undefined when refused. */
  private replaceConnection(peerId: number): PeerConnection | undefined {
    const connection = this.newConnection();
    try {
      this.multiplayerPeer.replacePeerConnection(peerId, connection);
    } catch (error) {
      connection.close();
      if (error instanceof RtcError) return undefined;
      throw error;
    }
    this.connections.set(peerId, connection);
    this.negotiate(connection, peerId);
    return connection;
  }

  /** A PeerConnection with the game's configuration, and the TURN server's when the server hands credentials. */
  private newConnection(): PeerConnection {
    const connection = new PeerConnection(this.settings.backend);
    connection.initialize(this.turn.apply(this.settings.peerConfig));
    return connection;
  }

  /** Sends what `connection` produces to `peerId`, and watches it until it is up. */
  private negotiate(connection: PeerConnection, peerId: number): void {
    wireNegotiation(connection, peerId, this.sendMessage);
    const negotiation = { connection, at: Date.now(), candidates: 0 };
    connection.on('iceCandidateCreated', () => negotiation.candidates++);
    this.negotiations.set(peerId, negotiation);
  }

  /** Whether the multiplayer peer has `peerId` connected (or held for resumption). */
  private isUp(peerId: number): boolean {
    return this.multiplayerPeer.hasPeer(peerId) && this.multiplayerPeer.getPeer(peerId).connected;
  }

  /** A connection to `peerId`, not up yet, in place of the current one; undefined when refused. */
  private renegotiate(peerId: number): PeerConnection | undefined {
    this.forget(peerId);
    this.introduce(peerId);
    return this.connections.get(peerId);
  }

  /**
   * Reports each new connection that failed or is not up within `negotiationTimeoutMs`, and, on
   * the side that offers, offers again on a new one: the server relays each message at most once
   * (across nodes, over Redis pub/sub), and a lost offer or answer would stall the link for good.
   */
  private watchNegotiations(): void {
    if (this.negotiations.size === 0) return;
    const now = Date.now();
    const timeout = this.settings.negotiationTimeoutMs;
    for (const [peerId, negotiation] of this.negotiations) {
      const state = negotiation.connection.getConnectionState();
      if (state === ConnectionState.Connected || this.connections.get(peerId) !== negotiation.connection) {
        this.negotiations.delete(peerId);
        continue;
      }
      if (state !== ConnectionState.Failed && (timeout === 0 || now - negotiation.at < timeout)) continue;
      this.negotiations.delete(peerId);
      this.emit('negotiationFailed', peerId, this.negotiationFault(peerId, negotiation.connection, negotiation.candidates, state === ConnectionState.Failed));
      if (this.uniqueId > peerId && !this.isUp(peerId)) this.renegotiate(peerId);
    }
  }

  private negotiationFault(peerId: number, connection: PeerConnection, candidates: number, failed: boolean): string {
    const { negotiationTimeoutMs } = this.settings;
    // An offerer gives its candidates away only once answered: none yet says nothing of ICE.
    if (connection.getSignalingState() === SignalingState.HaveLocalOffer) return `no answer within ${negotiationTimeoutMs} ms`;
    if (peerId > this.uniqueId && !this.answered.has(peerId)) return `no offer within ${negotiationTimeoutMs} ms`;
    const relayOnly = this.settings.peerConfig.iceTransportPolicy === 'relay';
    if (candidates === 0 && relayOnly) {
      return this.turn.active || (this.settings.peerConfig.iceServers ?? []).length > 0
        ? 'no relay candidate: the TURN server gave no allocation (wrong or expired credentials, or unreachable)'
        : 'no relay candidate: iceTransportPolicy is "relay" and no TURN server is configured';
    }
    if (candidates === 0) return 'no ICE candidate was gathered';
    return failed ? 'ICE failed: no candidate pair worked' : `not connected within ${negotiationTimeoutMs} ms`;
  }

  /**
   * Offers a new connection to a held peer, when this side is the one that offers to it (the
   * higher id) and signaling is up. Unless `again`, not while an earlier offer may still succeed.
   */
  private offerResumption(peerId: number, again = false): void {
    if (this.rejoin !== null || !this.joined || this.uniqueId < peerId || !this.mayResume(peerId)) return;
    const attempt = this.resumeAttempts.get(peerId);
    if (!again && attempt !== undefined && this.multiplayerPeer.getPeer(peerId).connection === attempt.connection && isAlive(attempt.connection)) return;
    const connection = this.replaceConnection(peerId);
    if (connection === undefined) return;
    this.resumeAttempts.set(peerId, { connection, at: Date.now() });
    connection.createOffer();
  }

  /** Offers again to held peers whose last new connection is not up {@link RESUME_RETRY_MS} after it was offered. */
  private retryResumptions(): void {
    if (this.resumeAttempts.size === 0) return;
    const now = Date.now();
    for (const [peerId, attempt] of this.resumeAttempts) {
      if (!this.multiplayerPeer.isPeerReconnecting(peerId)) {
        this.resumeAttempts.delete(peerId);
        continue;
      }
      if (now - attempt.at >= RESUME_RETRY_MS) this.offerResumption(peerId, true);
    }
  }

  /**
   * The socket ended. With a session token and resumption on, a lost socket (anything but the
   * server's refusal, 4000, or a normal close) is rejoined until the grace ends; otherwise, or
   * then, the session is over.
   */
  private socketEnded(code: number, reason: string): void {
    const grace = this.multiplayerPeer.getReconnectGraceMs();
    if (this.token === '' || grace === 0 || code === CLOSE_PROTOCOL_ERROR || code === CLOSE_NORMAL) {
      this.finish(code, reason);
      return;
    }
    const now = Date.now();
    this.socket = null;
    this.joined = false;
    if (this.rejoin === null) {
      this.rejoin = { until: now + grace, retryAt: now, code, reason };
      this.emit('rejoining', code, reason);
    } else {
      this.rejoin.retryAt = now + REJOIN_RETRY_MS;
    }
  }

  /** While rejoining: opens the next attempt when due, or ends the session at the end of the grace. False when there is no socket to poll. */
  private pollRejoin(): boolean {
    const rejoin = this.rejoin!;
    const now = Date.now();
    if (now > rejoin.until) {
      this.socket?.close(CLOSE_NORMAL, 'client gave up rejoining');
      this.finish(rejoin.code, rejoin.reason);
      return false;
    }
    if (this.socket === null && now >= rejoin.retryAt) {
      // Only a process that was seated has sessions to resume; one started from a stored token starts afresh.
      const resume = this.uniqueId !== 0 ? { resume: true } : {};
      this.socket = new SignalingSocket(this.settings, { ...this.joinMessage(), token: this.token, ...resume });
    }
    return this.socket !== null;
  }

  private joinMessage(): SignalingMessage {
    const { mesh, lobby } = this.settings;
    return { type: MessageType.Join, id: mesh ? JOIN_ID_MESH : JOIN_ID_SERVER_MODE, data: this.lobby || lobby };
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
    this.rejoin = null;
    this.connections.clear();
    this.answered.clear();
    this.resumeAttempts.clear();
    this.negotiations.clear();
  }

  // Bound once: every connection's negotiation sends through it, to whichever socket is current.
  private readonly sendMessage = (message: SignalingMessage): void => this.socket?.send(message);
}

/** Whether a connection may still come up: neither failed nor closed. */
function isAlive(connection: PeerConnection): boolean {
  const state = connection.getConnectionState();
  return state !== ConnectionState.Failed && state !== ConnectionState.Closed;
}

function zeroedDrops(): Record<SignalingDropReason, number> {
  return Object.fromEntries(SIGNALING_DROP_REASONS.map((reason) => [reason, 0])) as Record<SignalingDropReason, number>;
}
