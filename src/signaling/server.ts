// The lobby signaling server of Godot's webrtc_signaling demo: routes typed messages between the
// members of a lobby. WebSocket is spoken in websocket-handshake.ts (the upgrade),
// websocket-frames.ts (reading) and server-websocket.ts (the socket, writing). Frames are checked in
// connection.ts; a relayed message in its common shape is forwarded by frame-scan.ts without being
// decoded, anything else is read by protocol.ts. Lobbies live in lobby.ts, the options in
// server-options.ts, HTTP in server-http.ts, metrics in server-metrics.ts; with several nodes on
// Redis, cluster/ carries lobbies across nodes.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { EventEmitter } from 'eventemitter3';
import { RtcError } from '../transport/errors.js';
import { CLOSE_TRY_AGAIN, CLUSTER_SLOW_REASON, ClusterLink } from './cluster/cluster-link.js';
import { Connection } from './connection.js';
import { scanFrame, type ScannedFrame } from './frame-scan.js';
import { type Grant, Lobby, lobbyNameFault, newLobbyName } from './lobby.js';
import type { Member } from './member.js';
import {
  CLOSE_PROTOCOL_ERROR,
  CLOSE_SEAL_COMPLETE,
  HOST_PEER_ID,
  MessageType,
  parseFrame,
  SEAL_COMPLETE_REASON,
  type SignalingMessage,
  TURN_REFRESH_DATA,
} from './protocol.js';
import { type CloseCause, ServerCounters } from './server-counters.js';
import { answerHttp, healthAnswer, type HttpAnswer, type HttpRoutes } from './server-http.js';
import { ServerMetrics } from './server-metrics.js';
import { FrameSlab, ServerWebSocket, SocketState } from './server-websocket.js';
import { SessionTokens } from './session-token.js';
import {
  resolveServerOptions,
  turnUrls,
  WS_PAYLOAD_HEADROOM_FACTOR,
  type ServerSettings,
  type SignalingServerOptions,
} from './server-options.js';
import { turnCredentials, type TurnSettings } from './turn-credentials.js';
import { answerUpgrade, refusalResponse } from './websocket-handshake.js';

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
  /** Why, as `rtcmesh_signaling_closes_total` counts it. */
  cause: CloseCause;
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
  /**
   * With `redis`: the node reached Redis and joined the cluster as `nodeId` (`true`), or lost
   * Redis and refuses joins until it returns (`false`).
   */
  cluster: (reachable: boolean, nodeId: string) => void;
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
 * `GET /health` on the same port answers `{"sockets": n, "lobbies": n}`; `GET /metrics` answers
 * in the Prometheus text format, on the same port or on `metricsPort`.
 */
export class SignalingServer extends EventEmitter<SignalingServerEvents> {
  private readonly options: ServerSettings;
  // Every socket's outgoing frames are written here (server-websocket.ts).
  private readonly slab = new FrameSlab();
  private readonly connections = new Set<Connection>();
  private readonly lobbies = new Map<string, Lobby>();
  private readonly counters = new ServerCounters();
  private readonly metrics: ServerMetrics | null;
  // Filled in by scanFrame for each frame: one object for the server's life, not one per message.
  private readonly scanned: ScannedFrame = { type: 0, id: 0, dataStart: 0, dataEnd: 0 };
  private httpServer: Server | null = null;
  private metricsServer: Server | null = null;
  private boundAddress: SignalingServerAddress | null = null;
  private boundMetricsUrl: string | null = null;
  private state: 'idle' | 'starting' | 'listening' | 'closed' = 'idle';
  private starting: Promise<void> | null = null;
  private closing: Promise<void> | null = null;
  private pingTimer: NodeJS.Timeout | undefined;
  private nextSocketSerial = 1;
  private readonly tokens: SessionTokens;
  // Null without the option: one node in memory, and TURN off.
  private readonly cluster: ClusterLink | null;
  private readonly turn: TurnSettings | null;

  /**
   * Creates a server; nothing is bound until {@link listen}.
   * @throws RtcError `ERR_INVALID_PARAMETER` when an option is out of range.
   */
  constructor(options: SignalingServerOptions = {}) {
    super();
    this.options = resolveServerOptions(options);
    this.tokens = new SessionTokens(this.options.tokenSecret);
    const { turnSecret, turnUrl, turnTtl, redis } = this.options;
    this.turn = turnSecret !== null && turnUrl !== null ? { secret: turnSecret, urls: turnUrls(turnUrl), ttlSeconds: turnTtl } : null;
    this.cluster = redis === null ? null : this.newClusterLink();
    this.metrics = this.options.metrics
      ? new ServerMetrics(this.counters, () => ({
          sockets: this.connections.size,
          lobbies: this.lobbies.size,
          members: [...this.lobbies.values()].reduce((sum, lobby) => sum + lobby.members.size, 0),
          clusterReachable: this.clusterAvailable,
        }))
      : null;
  }

  /** Where the server listens, or null before {@link listen} has resolved and after {@link close}. */
  get address(): SignalingServerAddress | null {
    return this.state === 'listening' ? this.boundAddress : null;
  }

  /**
   * The URL of `GET /metrics` once listening: on the public port, or on `metricsPort` when it
   * is set; null when metrics are off, before {@link listen} has resolved and after {@link close}.
   */
  get metricsUrl(): string | null {
    return this.state === 'listening' ? this.boundMetricsUrl : null;
  }

  /** With `redis`: whether the node reaches Redis and so admits joins; false without `redis`. */
  get clusterAvailable(): boolean {
    return this.cluster?.available ?? false;
  }

  /**
   * Binds the host and port (and the metrics port, when there is one) and starts serving.
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
    const { metrics, options } = this;
    const health = (): HttpAnswer => healthAnswer({ sockets: this.connections.size, lobbies: this.lobbies.size });
    const publicRoutes: HttpRoutes = new Map([['/health', health]]);
    const metricsRoute = metrics === null ? null : (): Promise<HttpAnswer> => metrics.answer();
    const ownMetricsPort = metricsRoute !== null && options.metricsPort !== null;
    if (metricsRoute !== null && !ownMetricsPort) publicRoutes.set('/metrics', metricsRoute);
    const httpServer = this.newHttpServer(publicRoutes);
    httpServer.on('upgrade', (request, socket, head) => this.upgrade(request, socket, head));
    this.httpServer = httpServer;
    const metricsServer =
      metricsRoute !== null && ownMetricsPort ? this.newHttpServer(new Map([['/metrics', metricsRoute]])) : null;
    this.metricsServer = metricsServer;
    this.starting = (async () => {
      const port = await bind(httpServer, options.port, options.host);
      const metricsPort = metricsServer === null ? port : await bind(metricsServer, options.metricsPort ?? 0, options.metricsHost);
      const { host } = options;
      this.boundAddress = { host, port, url: `ws://${urlHost(host)}:${port}` };
      if (metrics !== null) {
        const metricsHost = ownMetricsPort ? options.metricsHost : host;
        this.boundMetricsUrl = `http://${urlHost(metricsHost)}:${metricsPort}/metrics`;
      }
    })();
    try {
      await this.starting;
    } catch (error) {
      this.state = 'closed';
      await Promise.all([httpServer, metricsServer].map((server) => server !== null && stopHttp(server)));
      this.httpServer = null;
      this.metricsServer = null;
      throw error;
    }
    for (const server of [httpServer, metricsServer]) server?.on('error', (error) => this.emit('error', error));
    if (options.redis !== null) await this.cluster?.start(options.redis);
    metrics?.start();
    this.state = 'listening';
    this.pingTimer = setInterval(() => this.guard(() => this.pingAll()), this.options.pingIntervalMs);
    return this.boundAddress!;
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
    for (const lobby of [...this.lobbies.values()]) this.closeLobby(lobby, CLOSE_GOING_AWAY, reason, 'shutdown');
    const allClosed = Promise.all([...this.connections].map((connection) => connection.closed));
    for (const connection of this.connections) this.closeSocket(connection, CLOSE_GOING_AWAY, reason, 'shutdown');
    let graceTimer: NodeJS.Timeout | undefined;
    const graceOver = new Promise((resolve) => (graceTimer = setTimeout(resolve, SHUTDOWN_GRACE_MS)));
    await Promise.race([allClosed, graceOver]);
    clearTimeout(graceTimer);
    for (const connection of this.connections) connection.socket.terminate();
    await allClosed;
    await this.cluster?.close();
    this.metrics?.stop();
    const servers = [this.httpServer, this.metricsServer];
    this.httpServer = null;
    this.metricsServer = null;
    await Promise.all(servers.map((server) => server !== null && stopHttp(server)));
  }

  private newHttpServer(routes: HttpRoutes): Server {
    return createServer((request, response) => answerHttp(request, response, routes, (error) => this.emit('error', error)));
  }

  private upgrade(request: IncomingMessage, duplex: Duplex, head: Buffer): void {
    // Node's HTTP server hands over the connection's net.Socket.
    const stream = duplex as Socket;
    if (this.state !== 'listening' || !stream.readable || !stream.writable) {
      stream.destroy();
      return;
    }
    const answer = answerUpgrade(request);
    if (!answer.ok) {
      // The HTTP server stopped listening for the socket's errors when it handed it over.
      stream.on('error', () => stream.destroy());
      stream.once('finish', () => stream.destroy());
      stream.end(refusalResponse(answer));
      return;
    }
    stream.write(answer.response);
    this.guard(() => this.accept(stream, head, request.socket.remoteAddress ?? ''));
  }

  private accept(stream: Socket, head: Buffer, remoteAddress: string): void {
    const serial = this.nextSocketSerial++;
    const { maxFrameBytes, maxSendQueueBytes } = this.options;
    const socket = new ServerWebSocket(stream, this.slab, maxFrameBytes * WS_PAYLOAD_HEADROOM_FACTOR, maxSendQueueBytes);
    const connection = new Connection(serial, socket, remoteAddress, this.options, this.counters);
    this.connections.add(connection);
    this.emit('socketOpened', connection.serial, remoteAddress);
    const { maxSockets, joinTimeoutMs } = this.options;
    if (this.connections.size > maxSockets) {
      this.closeSocket(connection, CLOSE_PROTOCOL_ERROR, `too many sockets (limit ${maxSockets})`, 'too_many_sockets');
    } else {
      const joinFault = `no JOIN within ${joinTimeoutMs} ms`;
      connection.startJoinTimer(joinTimeoutMs, () =>
        this.guard(() => {
          // A JOIN the cluster is still placing came in time: the wait was Redis's, not the client's.
          if (this.cluster?.isPlacing(connection)) this.closeSocket(connection, CLOSE_TRY_AGAIN, CLUSTER_SLOW_REASON, 'cluster_unavailable');
          else this.closeSocket(connection, CLOSE_PROTOCOL_ERROR, joinFault, 'join_timeout');
        }),
      );
    }
    // Last: the frames that came with the upgrade request are read at once, a JOIN among them.
    socket.start(
      {
        message: (data, start, end, binary) => this.receiveGuarded(connection, data, start, end, binary),
        pong: () => connection.pong(),
        fault: (_code, reason) => connection.recordFault(reason),
        closed: (code, reason) => this.guard(() => this.release(connection, code, reason)),
      },
      head,
    );
  }

  private release(connection: Connection, code: number, reason: string): void {
    connection.stopJoinTimer();
    connection.releaseSenders();
    this.connections.delete(connection);
    connection.markClosed();
    // A client that closes its socket itself (1000) has left; any other end may be a lost link.
    this.leaveLobby(connection, code !== CLOSE_NORMAL);
    const { serial, remoteAddress } = connection;
    const ending = connection.ending(code, reason);
    this.counters.countClose(ending.cause);
    this.emit('socketClosed', { socket: serial, remoteAddress, ...ending });
  }

  /** {@link receive} under {@link guard}'s rule, without a closure per message. */
  private receiveGuarded(connection: Connection, data: Buffer, start: number, end: number, isBinary: boolean): void {
    try {
      this.receive(connection, data, start, end, isBinary);
    } catch (error) {
      this.fail(error, connection);
    }
  }

  private receive(connection: Connection, data: Buffer, start: number, end: number, isBinary: boolean): void {
    // Nothing is read once the server has decided to end the socket.
    if (connection.endingByServer) return;
    const fault = connection.checkFrame(end - start, isBinary);
    if (fault !== null) {
      this.closeSocket(connection, CLOSE_PROTOCOL_ERROR, fault.reason, fault.cause);
      return;
    }
    // A socket seated in a lobby of another node: its frames are that node's to read.
    if (this.cluster !== null && this.cluster.forwards(connection, data.subarray(start, end))) return;
    this.dispatch(connection, data, start, end);
  }

  /** Reads one checked frame of a member, `data[start, end)`, and acts on it. */
  private dispatch(connection: Member, data: Buffer, start: number, end: number): void {
    const { scanned } = this;
    if (scanFrame(data, scanned, start, end) && isRelayed(scanned.type)) {
      this.counters.received[scanned.type]!++;
      const relayFault = this.relay(connection, scanned.type, scanned.id, data, scanned.dataStart, scanned.dataEnd);
      if (relayFault !== null) this.closeSocket(connection, CLOSE_PROTOCOL_ERROR, relayFault, 'protocol_error');
      return;
    }
    const frame = parseFrame(data.toString('utf8', start, end), this.options.maxFrameBytes);
    if (!frame.ok) {
      this.closeSocket(connection, frame.code, frame.reason, 'bad_frame');
      return;
    }
    const { message } = frame;
    this.counters.received[message.type]!++;
    const routeFault = this.route(connection, message);
    if (routeFault !== null) {
      const cause = message.type === MessageType.Join ? 'join_refused' : 'protocol_error';
      this.closeSocket(connection, CLOSE_PROTOCOL_ERROR, routeFault, cause);
    }
  }

  /** Acts on one message; returns the protocol fault that closes the sender, or null. */
  private route(connection: Member, message: SignalingMessage): string | null {
    switch (message.type) {
      case MessageType.Join:
        return this.join(connection, message);
      case MessageType.Seal:
        return this.seal(connection);
      case MessageType.Offer:
      case MessageType.Answer:
      case MessageType.Candidate: {
        // A frame parseFrame had to read (spaces, extra fields, a data that is not a string): its
        // data is re-encoded, as a literal, for the same forwarding as the fast path's.
        const literal = Buffer.from(JSON.stringify(message.data));
        return this.relay(connection, message.type, message.id, literal, 0, literal.length);
      }
      case MessageType.Id:
        if (message.data === TURN_REFRESH_DATA && this.turn !== null && connection.lobby !== null) {
          this.refreshTurn(connection, connection.lobby);
          return null;
        }
        return `message type ${message.type} is sent by the server only`;
      case MessageType.PeerConnect:
      case MessageType.PeerDisconnect:
        return `message type ${message.type} is sent by the server only`;
    }
  }

  private join(connection: Member, message: SignalingMessage): string | null {
    if (connection.lobby !== null) return `already in lobby ${connection.lobby.name}`;
    // With several nodes, where the lobby is (or whether its name is free) is for Redis to say.
    if (this.cluster !== null && connection instanceof Connection) return this.cluster.join(connection, message);
    return this.joinHere(connection, message);
  }

  /** A JOIN answered from this node's lobbies; returns the fault, or null. */
  private joinHere(connection: Member, message: SignalingMessage): string | null {
    if (connection.lobby !== null) return `already in lobby ${connection.lobby.name}`;
    if (message.token !== undefined) return this.rejoin(connection, message.token, message.resume === true);
    if (message.data === '') {
      const { maxLobbies } = this.options;
      if (this.lobbies.size >= maxLobbies) return `too many lobbies (limit ${maxLobbies})`;
      // The creator's JOIN sets the mode: id 0 is mesh, any other id server mode, as in the Godot demo.
      this.openLobby(connection, newLobbyName((name) => this.lobbies.has(name)), message.id === 0);
      return null;
    }
    const name = message.data;
    const nameFault = lobbyNameFault(name);
    if (nameFault !== null) return nameFault;
    const lobby = this.lobbies.get(name);
    if (lobby === undefined) return `no lobby named ${name}`;
    const joinFault = lobby.joinFault(this.options.maxLobbySize);
    if (joinFault !== null) return joinFault;
    connection.stopJoinTimer();
    const peerId = lobby.newPeerId();
    lobby.admit(connection, peerId, this.grant(lobby, peerId, 1));
    this.emit('peerJoined', lobby.name, peerId, connection.serial);
    return null;
  }

  /** Opens the lobby `name` with `connection` as its host. */
  private openLobby(connection: Member, name: string, mesh: boolean): void {
    const lobby = new Lobby(name, mesh);
    connection.stopJoinTimer();
    this.lobbies.set(name, lobby);
    this.emit('lobbyCreated', name, mesh);
    lobby.admit(connection, HOST_PEER_ID, this.grant(lobby, HOST_PEER_ID, 1));
    this.emit('peerJoined', name, HOST_PEER_ID, connection.serial);
  }

  /** What an admitted member's ID carries: its session token (resumption on) and TURN credentials (TURN on). */
  private grant(lobby: Lobby, peerId: number, generation: number): Grant {
    const token = this.issueToken(lobby, peerId, generation);
    return {
      ...(token === undefined ? {} : { token }),
      ...(this.turn === null ? {} : { turn: turnCredentials(this.turn, peerId, Date.now()) }),
    };
  }

  /** Answers a member's request for fresh TURN credentials with an ID carrying them. */
  private refreshTurn(connection: Member, lobby: Lobby): void {
    const turn = turnCredentials(this.turn!, connection.peerId, Date.now());
    connection.send({ type: MessageType.Id, id: connection.peerId, data: lobby.mesh ? 'true' : '', turn });
  }

  /**
   * A JOIN with a session token: the member takes its seat back, on this socket, if the token is
   * genuine, unexpired, the latest issued for the seat, and the seat still exists. A socket still
   * open on the seat is the same member's, lost: it is closed. Returns the fault, or null.
   */
  private rejoin(connection: Member, token: string, resume: boolean): string | null {
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
      this.closeSocket(previous, CLOSE_PROTOCOL_ERROR, 'replaced by a resumed session', 'session_resumed');
    }
    connection.stopJoinTimer();
    const { token: fresh, ...grant } = this.grant(lobby, peerId, generation + 1);
    lobby.readmit(connection, peerId, fresh!, resume, grant);
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

  private seal(connection: Member): string | null {
    const lobby = connection.lobby;
    if (lobby === null) return 'SEAL before joining a lobby';
    if (connection.peerId !== HOST_PEER_ID) return 'only the lobby host may seal';
    // A repeated seal changes nothing: the members know, and the close is already scheduled.
    const closeAtSeal = () => this.guard(() => this.closeLobby(lobby, CLOSE_SEAL_COMPLETE, SEAL_COMPLETE_REASON, 'seal_complete'));
    // With resumption on, a returning member needs its peers on signaling to make new connections.
    const sealed = lobby.seal(this.options.sealCloseMs, this.options.reconnectGraceMs > 0 ? null : closeAtSeal);
    if (sealed) this.emit('lobbySealed', lobby.name);
    return null;
  }

  /** Forwards an OFFER, ANSWER or CANDIDATE; `data[start, end)` is its JSON string literal, quotes included. */
  private relay(connection: Member, type: MessageType, destinationId: number, data: Buffer, start: number, end: number): string | null {
    const lobby = connection.lobby;
    if (lobby === null) return `message type ${type} before joining a lobby`;
    if (destinationId === connection.peerId) return 'destination is the sender itself';
    const destination = lobby.members.get(destinationId);
    // A held seat's member is away: what is sent to it is dropped, and resent once it is back.
    if (destination === undefined && lobby.isHeld(destinationId)) return null;
    if (destination === undefined) return `destination ${destinationId} is not in your lobby`;
    if (!lobby.introduces(connection.peerId, destinationId)) {
      return `destination ${destinationId} was not introduced to you (server mode)`;
    }
    // The demo's "the host never offers" binds clients; the server relays as the demo does.
    // The payload stays opaque here: the receiving client validates it (parseCandidate).
    if (connection instanceof Connection && destination instanceof Connection) connection.relayTo(destination, type, data, start, end);
    else this.cluster!.relay(connection, destination, type, data.subarray(start, end));
    this.counters.relayed[type]!++;
    return null;
  }

  /**
   * Takes a member out of its lobby. When its link was `lost` and it holds a session token, its
   * seat is kept for `reconnectGraceMs`, and its departure announced only if it does not return.
   */
  private leaveLobby(connection: Member, lost: boolean): void {
    const lobby = connection.lobby;
    if (lobby === null) {
      if (this.cluster !== null && connection instanceof Connection) this.cluster.leave(connection, lost);
      return;
    }
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
    if (lobby.sealed) {
      // A sealed lobby lives out its seal: its members' links no longer need the host's socket.
      // Once the last member is gone (and no seat is held for one) there is nobody left to close.
      if (lobby.members.size === 0 && lobby.heldSeats === 0) {
        this.closeLobby(lobby, CLOSE_SEAL_COMPLETE, 'every member has left', 'seal_complete');
        return;
      }
      // With resumption on the members are still on signaling, and a departure ends a session.
      if (this.options.reconnectGraceMs > 0) lobby.announceDeparture(peerId);
      return;
    }
    if (peerId === HOST_PEER_ID) {
      this.closeLobby(lobby, CLOSE_PROTOCOL_ERROR, 'lobby host has left', 'host_left');
      return;
    }
    lobby.announceDeparture(peerId);
  }

  private closeLobby(lobby: Lobby, code: number, reason: string, cause: CloseCause): void {
    this.lobbies.delete(lobby.name);
    this.cluster?.lobbyClosed(lobby.name);
    for (const member of lobby.dissolve()) this.closeSocket(member, code, reason, cause);
    this.emit('lobbyClosed', lobby.name, reason);
  }

  private closeSocket(connection: Member, code: number, reason: string, cause: CloseCause): void {
    if (!this.endedByServer(connection, code, reason, cause)) return;
    connection.sendClose(code, reason);
  }

  private pingAll(): void {
    for (const connection of this.connections) {
      // A closing socket finishes by itself: it cuts off a peer that never answers the close frame.
      if (connection.socket.readyState !== SocketState.Open) continue;
      if (connection.ping()) continue;
      if (this.endedByServer(connection, CLOSE_ABNORMAL, 'no pong to the last ping', 'ping_timeout')) {
        connection.socket.terminate();
      }
    }
  }

  /** Records that the server ends this socket and takes it out of its lobby; false if already ended. */
  private endedByServer(connection: Member, code: number, reason: string, cause: CloseCause): boolean {
    if (!connection.markEndedByServer(code, reason, cause)) return false;
    // A socket that stopped answering pings may be a lost link; any other end is for a fault.
    this.leaveLobby(connection, cause === 'ping_timeout');
    return true;
  }

  /** The cluster's view of this server: its lobbies and the steps of a join, a frame, a departure. */
  private newClusterLink(): ClusterLink {
    return new ClusterLink({
      settings: this.options,
      counters: this.counters,
      hasLobby: (name) => this.lobbies.has(name),
      lobbyNames: () => [...this.lobbies.keys()],
      openLobby: (connection, name, mesh) => this.openLobby(connection, name, mesh),
      joinHere: (member, message) => this.joinHere(member, message),
      dispatch: (member, data) => this.guard(() => this.dispatch(member, data, 0, data.length), member),
      leave: (member, lost) => this.leaveLobby(member, lost),
      closeSocket: (member, code, reason, cause) => this.closeSocket(member, code, reason, cause),
      guard: (handler) => this.guard(handler),
      reachable: (up) => this.emit('cluster', up, this.cluster!.nodeId),
    });
  }

  /**
   * Runs a handler so that nothing can throw out of it into a socket's events or a timer: a fault is a bug of
   * the server (never of the input, which is validated), reported as `error`, and it closes the
   * socket it concerns with 1011.
   */
  private guard(handler: () => void, connection?: Member): void {
    try {
      handler();
    } catch (error) {
      this.fail(error, connection);
    }
  }

  private fail(error: unknown, connection?: Member): void {
    if (connection !== undefined) {
      this.closeSocket(connection, CLOSE_INTERNAL_ERROR, 'internal server error', 'internal_error');
    }
    this.emit('error', error);
  }
}

function isRelayed(type: number): boolean {
  return type === MessageType.Offer || type === MessageType.Answer || type === MessageType.Candidate;
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** Listens on `port` of `host`; resolves with the port bound, rejects with Node's error. */
function bind(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const bound = server.address();
      resolve(typeof bound === 'object' && bound !== null ? bound.port : port);
    });
  });
}

function stopHttp(server: Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve) => {
    server.close(() => resolve());
    // Keep-alive HTTP connections (a /health poller) would hold close() open otherwise.
    server.closeAllConnections();
  });
}
