// The lobby signaling server of SIGNALING.md: routes typed messages between the members of a
// lobby. Frames become messages in connection.ts (through protocol.ts); this file never reads raw
// JSON. Lobbies live in lobby.ts, the options in server-options.ts, `GET /health` in server-health.ts.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { EventEmitter } from 'eventemitter3';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { RtcError } from '../transport/errors.js';
import { Connection } from './connection.js';
import { Lobby, lobbyNameFault, newLobbyName } from './lobby.js';
import {
  CLOSE_PROTOCOL_ERROR,
  CLOSE_SEAL_COMPLETE,
  HOST_PEER_ID,
  MessageType,
  SEAL_COMPLETE_REASON,
  type SignalingMessage,
} from './protocol.js';
import { answerHttp } from './server-health.js';
import { SessionTokens } from './session-token.js';
import {
  resolveServerOptions,
  WS_PAYLOAD_HEADROOM_FACTOR,
  type ServerSettings,
  type SignalingServerOptions,
} from './server-options.js';

export type { SignalingServerOptions } from './server-options.js';

/** Where a listening {@link SignalingServer} accepts connections. */
export interface SignalingServerAddress {
  /** The bound address. */
  host: string;
  /** The bound port (the real one when the options asked for 0). */
  port: number;
  /** The WebSocket URL clients connect to, e.g. `ws://127.0.0.1:9080`. */
  url: string;
}

/** How a socket ended, as reported by the `socketClosed` event. */
export interface SocketClosedInfo {
  /** Serial number of the connection since the server started, as in `socketOpened`. */
  socket: number;
  /** The remote address of the connection. */
  remoteAddress: string;
  /** The close code (1006 when the connection dropped without a close frame). */
  code: number;
  /** The close reason. */
  reason: string;
  /** True when the server ended the socket (a protocol error, a limit, a seal, a missed ping). */
  byServer: boolean;
}

/** Events of a {@link SignalingServer}: what the `rtcmesh signal` command logs. */
export interface SignalingServerEvents {
  /** A WebSocket connected; `socket` is its serial number. */
  socketOpened: (socket: number, remoteAddress: string) => void;
  /** A WebSocket closed. */
  socketClosed: (info: SocketClosedInfo) => void;
  /** A socket created the lobby `lobby` and became its host. */
  lobbyCreated: (lobby: string, mesh: boolean) => void;
  /** A socket joined `lobby` as `peerId` (1 for the host). */
  peerJoined: (lobby: string, peerId: number, socket: number) => void;
  /** The member `peerId` left `lobby`. */
  peerLeft: (lobby: string, peerId: number, socket: number) => void;
  /** The host sealed `lobby`. */
  lobbySealed: (lobby: string) => void;
  /** `lobby` was deleted and its members closed, for `reason`. */
  lobbyClosed: (lobby: string, reason: string) => void;
  /** A fault of the server itself (a bug, or the HTTP server failing after `listen()`). */
  error: (error: unknown) => void;
}

const CLOSE_NORMAL = 1000;
const CLOSE_GOING_AWAY = 1001;
const CLOSE_ABNORMAL = 1006;
const CLOSE_INTERNAL_ERROR = 1011;
// How long close() waits for clients to answer its close frame before cutting them off.
const SHUTDOWN_GRACE_MS = 1000;

/**
 * The lobby signaling server of Godot's webrtc_signaling demo, with rtcmesh's limits: lobbies
 * over WebSocket that introduce their members and relay their offers, answers and candidates.
 * `GET /health` on the same port answers `{"sockets": n, "lobbies": n}`.
 */
export class SignalingServer extends EventEmitter<SignalingServerEvents> {
  private readonly options: ServerSettings;
  private readonly webSocketServer: WebSocketServer;
  private readonly connections = new Set<Connection>();
  private readonly lobbies = new Map<string, Lobby>();
  private httpServer: Server | null = null;
  private boundAddress: SignalingServerAddress | null = null;
  private state: 'idle' | 'starting' | 'listening' | 'closed' = 'idle';
  private starting: Promise<void> | null = null;
  private closing: Promise<void> | null = null;
  private pingTimer: NodeJS.Timeout | undefined;
  private nextSocketSerial = 1;
  private readonly tokens: SessionTokens;

  /**
   * Creates a server; nothing is bound until {@link listen}.
   * @throws RtcError `ERR_INVALID_PARAMETER` when an option is out of range.
   */
  constructor(options: SignalingServerOptions = {}) {
    super();
    this.options = resolveServerOptions(options);
    this.tokens = new SessionTokens(this.options.tokenSecret);
    this.webSocketServer = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      maxPayload: this.options.maxFrameBytes * WS_PAYLOAD_HEADROOM_FACTOR,
    });
  }

  /** Where the server listens, or null before {@link listen} has resolved and after {@link close}. */
  get address(): SignalingServerAddress | null {
    return this.state === 'listening' ? this.boundAddress : null;
  }

  /**
   * Binds the host and port and starts serving.
   * @returns the bound address and the WebSocket URL to give clients.
   * @throws RtcError `ERR_ALREADY_IN_USE` when called a second time or after {@link close}.
   * Rejects with Node's error (for example `EADDRINUSE`) when the port cannot be bound.
   */
  async listen(): Promise<SignalingServerAddress> {
    if (this.state !== 'idle') {
      throw new RtcError(
        'ERR_ALREADY_IN_USE',
        'listen() was already called on this SignalingServer; create another one for another port',
      );
    }
    this.state = 'starting';
    const httpServer = createServer((request, response) =>
      answerHttp(request, response, () => ({ sockets: this.connections.size, lobbies: this.lobbies.size })),
    );
    httpServer.on('upgrade', (request, socket, head) => this.upgrade(request, socket, head));
    this.httpServer = httpServer;
    this.starting = new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(this.options.port, this.options.host, () => {
        httpServer.off('error', reject);
        resolve();
      });
    });
    try {
      await this.starting;
    } catch (error) {
      this.state = 'closed';
      this.httpServer = null;
      throw error;
    }
    httpServer.on('error', (error) => this.emit('error', error));
    const bound = httpServer.address();
    const port = typeof bound === 'object' && bound !== null ? bound.port : this.options.port;
    const { host } = this.options;
    const urlHost = host.includes(':') ? `[${host}]` : host;
    this.boundAddress = { host, port, url: `ws://${urlHost}:${port}` };
    this.state = 'listening';
    this.pingTimer = setInterval(() => this.guard(() => this.pingAll()), this.options.pingIntervalMs);
    return this.boundAddress;
  }

  /**
   * Closes every socket (1001 "server shutting down"), deletes every lobby, clears every timer
   * and stops listening. Resolves once everything is released, so the process can exit. Calling
   * it again returns the same promise; calling it before {@link listen} just retires the server.
   */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    await this.starting?.catch(() => undefined);
    this.state = 'closed';
    clearInterval(this.pingTimer);
    const reason = 'server shutting down';
    for (const lobby of [...this.lobbies.values()]) this.closeLobby(lobby, CLOSE_GOING_AWAY, reason);
    const allClosed = Promise.all([...this.connections].map((connection) => connection.closed));
    for (const connection of this.connections) this.closeSocket(connection, CLOSE_GOING_AWAY, reason);
    let graceTimer: NodeJS.Timeout | undefined;
    const graceOver = new Promise((resolve) => (graceTimer = setTimeout(resolve, SHUTDOWN_GRACE_MS)));
    await Promise.race([allClosed, graceOver]);
    clearTimeout(graceTimer);
    for (const connection of this.connections) connection.socket.terminate();
    await allClosed;
    const httpServer = this.httpServer;
    this.httpServer = null;
    if (httpServer === null) return;
    await new Promise<void>((resolve) => {
      httpServer.close(() => resolve());
      // Keep-alive HTTP connections (a /health poller) would hold close() open otherwise.
      httpServer.closeAllConnections();
    });
  }

  private upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.state !== 'listening') {
      socket.destroy();
      return;
    }
    this.webSocketServer.handleUpgrade(request, socket, head, (webSocket) =>
      this.guard(() => this.accept(webSocket, request.socket.remoteAddress ?? '')),
    );
  }

  private accept(socket: WebSocket, remoteAddress: string): void {
    const connection = new Connection(this.nextSocketSerial++, socket, remoteAddress, this.options);
    this.connections.add(connection);
    socket.on('message', (data, isBinary) =>
      this.guard(() => this.receive(connection, data, isBinary), connection),
    );
    socket.on('close', (code, reason) => this.guard(() => this.release(connection, code, reason.toString())));
    this.emit('socketOpened', connection.serial, remoteAddress);
    const { maxSockets, joinTimeoutMs } = this.options;
    if (this.connections.size > maxSockets) {
      this.closeSocket(connection, CLOSE_PROTOCOL_ERROR, `too many sockets (limit ${maxSockets})`);
      return;
    }
    const joinFault = `no JOIN within ${joinTimeoutMs} ms`;
    connection.startJoinTimer(joinTimeoutMs, () =>
      this.guard(() => this.closeSocket(connection, CLOSE_PROTOCOL_ERROR, joinFault)),
    );
  }

  private release(connection: Connection, code: number, reason: string): void {
    connection.stopJoinTimer();
    this.connections.delete(connection);
    connection.markClosed();
    // A client that closes its socket itself (1000) has left; any other end may be a lost link.
    this.leaveLobby(connection, code !== CLOSE_NORMAL);
    const { serial, remoteAddress } = connection;
    this.emit('socketClosed', { socket: serial, remoteAddress, ...connection.ending(code, reason) });
  }

  private receive(connection: Connection, data: RawData, isBinary: boolean): void {
    // ws may still deliver frames that arrived before our close frame went out.
    if (connection.endingByServer) return;
    const frame = connection.readFrame(data, isBinary);
    if (!frame.ok) {
      this.closeSocket(connection, frame.code, frame.reason);
      return;
    }
    const fault = this.route(connection, frame.message);
    if (fault !== null) this.closeSocket(connection, CLOSE_PROTOCOL_ERROR, fault);
  }

  /** Acts on one message; returns the protocol fault that closes the sender, or null. */
  private route(connection: Connection, message: SignalingMessage): string | null {
    switch (message.type) {
      case MessageType.Join:
        return this.join(connection, message);
      case MessageType.Seal:
        return this.seal(connection);
      case MessageType.Offer:
      case MessageType.Answer:
      case MessageType.Candidate:
        return this.relay(connection, message);
      case MessageType.Id:
      case MessageType.PeerConnect:
      case MessageType.PeerDisconnect:
        return `message type ${message.type} is sent by the server only`;
    }
  }

  private join(connection: Connection, message: SignalingMessage): string | null {
    if (connection.lobby !== null) return `already in lobby ${connection.lobby.name}`;
    if (message.token !== undefined) return this.rejoin(connection, message.token, message.resume === true);
    // SIGNALING.md: the client sends id 0 for mesh mode; the Godot demo reads any other id as server mode.
    const mesh = message.id === 0;
    const creating = message.data === '';
    let lobby: Lobby;
    if (creating) {
      const { maxLobbies } = this.options;
      if (this.lobbies.size >= maxLobbies) return `too many lobbies (limit ${maxLobbies})`;
      lobby = new Lobby(newLobbyName((name) => this.lobbies.has(name)), mesh);
    } else {
      const name = message.data;
      const nameFault = lobbyNameFault(name);
      if (nameFault !== null) return nameFault;
      const found = this.lobbies.get(name);
      if (found === undefined) return `no lobby named ${name}`;
      const joinFault = found.joinFault(mesh, this.options.maxLobbySize);
      if (joinFault !== null) return joinFault;
      lobby = found;
    }
    connection.stopJoinTimer();
    const peerId = creating ? HOST_PEER_ID : lobby.newPeerId();
    if (creating) {
      this.lobbies.set(lobby.name, lobby);
      this.emit('lobbyCreated', lobby.name, lobby.mesh);
    }
    lobby.admit(connection, peerId, this.issueToken(lobby, peerId, 1));
    this.emit('peerJoined', lobby.name, peerId, connection.serial);
    return null;
  }

  /**
   * A JOIN with a session token: the member takes its seat back, on this socket, if the token is
   * genuine, unexpired, the latest issued for the seat, and the seat still exists. A socket still
   * open on the seat is the same member's, lost: it is closed. Returns the fault, or null.
   */
  private rejoin(connection: Connection, token: string, resume: boolean): string | null {
    if (this.options.reconnectGraceMs === 0) return 'session tokens are not accepted: resumption is off';
    const check = this.tokens.verify(token, Date.now());
    if (!check.ok) return check.reason;
    const { lobby: name, peerId, generation } = check.claims;
    const lobby = this.lobbies.get(name);
    if (lobby === undefined) return `no lobby named ${name}: the session has ended`;
    const current = lobby.generations.get(peerId);
    if (current === undefined) return `the session of peer ${peerId} has ended`;
    if (current !== generation) return 'session token already used';
    const previous = lobby.members.get(peerId);
    if (previous !== undefined) {
      lobby.remove(previous);
      this.closeSocket(previous, CLOSE_PROTOCOL_ERROR, 'replaced by a resumed session');
    }
    connection.stopJoinTimer();
    lobby.readmit(connection, peerId, this.issueToken(lobby, peerId, generation + 1)!, resume);
    this.emit('peerJoined', lobby.name, peerId, connection.serial);
    return null;
  }

  /** Issues the token of a seat's `generation`, when resumption is on; undefined when off. */
  private issueToken(lobby: Lobby, peerId: number, generation: number): string | undefined {
    if (this.options.reconnectGraceMs === 0) return undefined;
    lobby.generations.set(peerId, generation);
    const expiresAt = Date.now() + this.options.tokenLifetimeMs;
    return this.tokens.issue({ lobby: lobby.name, peerId, generation, expiresAt });
  }

  private seal(connection: Connection): string | null {
    const lobby = connection.lobby;
    if (lobby === null) return 'SEAL before joining a lobby';
    if (connection.peerId !== HOST_PEER_ID) return 'only the lobby host may seal';
    // A repeated seal changes nothing: the members know, and the close is already scheduled.
    const closeAtSeal = () => this.guard(() => this.closeLobby(lobby, CLOSE_SEAL_COMPLETE, SEAL_COMPLETE_REASON));
    // With resumption on, a returning member needs its peers on signaling to make new connections.
    const sealed = lobby.seal(this.options.sealCloseMs, this.options.reconnectGraceMs > 0 ? null : closeAtSeal);
    if (sealed) this.emit('lobbySealed', lobby.name);
    return null;
  }

  private relay(connection: Connection, message: SignalingMessage): string | null {
    const lobby = connection.lobby;
    if (lobby === null) return `message type ${message.type} before joining a lobby`;
    const destinationId = message.id;
    if (destinationId === connection.peerId) return 'destination is the sender itself';
    const destination = lobby.members.get(destinationId);
    // A held seat's member is away: what is sent to it is dropped, and resent once it is back.
    if (destination === undefined && lobby.isHeld(destinationId)) return null;
    if (destination === undefined) return `destination ${destinationId} is not in your lobby`;
    if (!lobby.introduces(connection.peerId, destinationId)) {
      return `destination ${destinationId} was not introduced to you (server mode)`;
    }
    // SIGNALING.md's "the host never offers" binds clients; the server relays as the demo does.
    // The payload stays opaque here: the receiving client validates it (parseCandidate).
    destination.send({ type: message.type, id: connection.peerId, data: message.data });
    return null;
  }

  /**
   * Takes a member out of its lobby. When its link was `lost` and it holds a session token, its
   * seat is kept for `reconnectGraceMs`, and its departure announced only if it does not return.
   */
  private leaveLobby(connection: Connection, lost: boolean): void {
    const lobby = connection.lobby;
    if (lobby === null) return;
    lobby.remove(connection);
    const { peerId, serial } = connection;
    if (lost && lobby.generations.has(peerId)) {
      lobby.hold(peerId, this.options.reconnectGraceMs, () => this.guard(() => this.depart(lobby, peerId, serial)));
      return;
    }
    this.depart(lobby, peerId, serial);
  }

  private depart(lobby: Lobby, peerId: number, serial: number): void {
    lobby.generations.delete(peerId);
    this.emit('peerLeft', lobby.name, peerId, serial);
    if (peerId === HOST_PEER_ID) {
      this.closeLobby(lobby, CLOSE_PROTOCOL_ERROR, 'lobby host has left');
      return;
    }
    lobby.announceDeparture(peerId);
  }

  private closeLobby(lobby: Lobby, code: number, reason: string): void {
    this.lobbies.delete(lobby.name);
    for (const member of lobby.dissolve()) this.closeSocket(member, code, reason);
    this.emit('lobbyClosed', lobby.name, reason);
  }

  private closeSocket(connection: Connection, code: number, reason: string): void {
    if (!this.endedByServer(connection, code, reason)) return;
    connection.sendClose(code, reason);
  }

  private pingAll(): void {
    for (const connection of this.connections) {
      // A closing socket is ws's to finish: it cuts off a peer that never answers the close frame.
      if (connection.socket.readyState !== WebSocket.OPEN) continue;
      if (connection.ping()) continue;
      if (this.endedByServer(connection, CLOSE_ABNORMAL, 'no pong to the last ping')) {
        connection.socket.terminate();
      }
    }
  }

  /** Records that the server ends this socket and takes it out of its lobby; false if already ended. */
  private endedByServer(connection: Connection, code: number, reason: string): boolean {
    if (!connection.markEndedByServer(code, reason)) return false;
    // A socket that stopped answering pings may be a lost link; any other end is for a fault.
    this.leaveLobby(connection, code === CLOSE_ABNORMAL);
    return true;
  }

  /**
   * Runs a handler so that nothing can throw out of it into ws or a timer: a fault is a bug of
   * the server (never of the input, which is validated), reported as `error`, and it closes the
   * socket it concerns with 1011.
   */
  private guard(handler: () => void, connection?: Connection): void {
    try {
      handler();
    } catch (error) {
      if (connection !== undefined) {
        this.closeSocket(connection, CLOSE_INTERNAL_ERROR, 'internal server error');
      }
      this.emit('error', error);
    }
  }
}
