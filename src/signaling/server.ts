// The lobby signaling server of SIGNALING.md: routes typed messages between the members of a
// lobby. Frames become messages in protocol.ts; this file never reads raw JSON.
import { randomInt } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { EventEmitter } from 'eventemitter3';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { RtcError } from '../transport/errors.js';
import {
  CLOSE_PROTOCOL_ERROR,
  CLOSE_SEAL_COMPLETE,
  HOST_PEER_ID,
  MAX_PEER_ID,
  MessageType,
  SEAL_COMPLETE_REASON,
  encodeMessage,
  parseFrame,
  type SignalingMessage,
} from './protocol.js';

/** Limits and addresses of a {@link SignalingServer}; every field is optional. */
export interface SignalingServerOptions {
  /** Address to bind. Default `'127.0.0.1'`: loopback only; pass `'0.0.0.0'` to serve a network. */
  host?: string;
  /** TCP port, also serving `GET /health`. Default 9080 (the Godot demo's); 0 picks a free port. */
  port?: number;
  /** Connected WebSockets at most; the next one is closed with 4000. Default 4096. */
  maxSockets?: number;
  /** Open lobbies at most; creating one more closes the creator with 4000. Default 1024. */
  maxLobbies?: number;
  /**
   * Members of one lobby at most, the host included; one more joiner is closed with 4000.
   * Default 64: a mesh of 64 already holds 2016 WebRTC connections.
   */
  maxLobbySize?: number;
  /** Largest text frame in UTF-8 bytes; a larger one closes its sender with 4000. Default 65536. */
  maxFrameBytes?: number;
  /** Time a socket has to send its JOIN before it is closed with 4000. Default 1000 ms. */
  joinTimeoutMs?: number;
  /** Interval between pings; a socket that has not answered the previous one is dropped. Default 10000 ms. */
  pingIntervalMs?: number;
  /** Time from a seal to the close of every member with 1000 "Seal complete". Default 10000 ms. */
  sealCloseMs?: number;
  /** Sustained messages per second one socket may send (token bucket refill rate). Default 50. */
  messagesPerSecond?: number;
  /**
   * Messages one socket may send at once before the rate applies (token bucket size); one more
   * closes it with 4000 "rate limit exceeded". Default 200: a member joining a mesh of 30 sends
   * an offer and a few candidates to each.
   */
  messageBurst?: number;
}

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

const DEFAULT_OPTIONS: Required<SignalingServerOptions> = {
  host: '127.0.0.1',
  port: 9080,
  maxSockets: 4096,
  maxLobbies: 1024,
  maxLobbySize: 64,
  maxFrameBytes: 65_536,
  joinTimeoutMs: 1000,
  pingIntervalMs: 10_000,
  sealCloseMs: 10_000,
  messagesPerSecond: 50,
  messageBurst: 200,
};

const LOBBY_NAME_LENGTH = 16;
const LOBBY_NAME_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
// Generated names are alphanumeric; "_" and "-" admit hand-picked names and nothing that could
// be a path, a markup or a control character in a log.
const LOBBY_NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const FIRST_MEMBER_PEER_ID = 2;
const MAX_PORT = 65_535;
// setTimeout fires at once, with a warning, for anything longer.
const MAX_TIMER_MS = 0x7fff_ffff;
// Frames up to twice the limit still reach parseFrame and are refused with 4000 and a reason;
// ws refuses larger ones itself (1009) before buffering them, which bounds memory per socket.
const WS_PAYLOAD_HEADROOM_FACTOR = 2;
const CLOSE_GOING_AWAY = 1001;
const CLOSE_ABNORMAL = 1006;
const CLOSE_INTERNAL_ERROR = 1011;
// RFC 6455 §5.5: a control frame's payload is at most 125 bytes, 2 of them the code; ws throws
// on a longer reason.
const MAX_CLOSE_REASON_BYTES = 123;
// How long close() waits for clients to answer its close frame before cutting them off.
const SHUTDOWN_GRACE_MS = 1000;
const HEALTH_PATH = '/health';
const MS_PER_SECOND = 1000;

/**
 * The lobby signaling server of Godot's webrtc_signaling demo, with rtcmesh's limits: lobbies
 * over WebSocket that introduce their members and relay their offers, answers and candidates.
 * `GET /health` on the same port answers `{"sockets": n, "lobbies": n}`.
 */
export class SignalingServer extends EventEmitter<SignalingServerEvents> {
  private readonly options: Required<SignalingServerOptions>;
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

  /**
   * Creates a server; nothing is bound until {@link listen}.
   * @throws RtcError `ERR_INVALID_PARAMETER` when an option is out of range.
   */
  constructor(options: SignalingServerOptions = {}) {
    super();
    this.options = resolveOptions(options);
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
    const httpServer = createServer((request, response) => this.answerHttp(request, response));
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

  private answerHttp(request: IncomingMessage, response: ServerResponse): void {
    const path = (request.url ?? '').split('?', 1)[0];
    if (path !== HEALTH_PATH) {
      sendJson(response, 404, { error: 'not found' });
    } else if (request.method !== 'GET') {
      response.setHeader('allow', 'GET');
      sendJson(response, 405, { error: 'method not allowed' });
    } else {
      sendJson(response, 200, { sockets: this.connections.size, lobbies: this.lobbies.size });
    }
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
    socket.on('pong', () => {
      connection.answeredPing = true;
    });
    // ws closes the socket itself after a WebSocket-level fault (1009 too big, 1007 bad UTF-8);
    // keep its message as the close reason for the log.
    socket.on('error', (error) => {
      connection.transportFault ??= error.message;
    });
    socket.on('close', (code, reason) => this.guard(() => this.release(connection, code, reason.toString())));
    this.emit('socketOpened', connection.serial, remoteAddress);
    const { maxSockets, joinTimeoutMs } = this.options;
    if (this.connections.size > maxSockets) {
      this.closeSocket(connection, CLOSE_PROTOCOL_ERROR, `too many sockets (limit ${maxSockets})`);
      return;
    }
    const joinFault = `no JOIN within ${joinTimeoutMs} ms`;
    connection.joinTimer = setTimeout(
      () => this.guard(() => this.closeSocket(connection, CLOSE_PROTOCOL_ERROR, joinFault)),
      joinTimeoutMs,
    );
  }

  private release(connection: Connection, code: number, reason: string): void {
    clearTimeout(connection.joinTimer);
    this.connections.delete(connection);
    connection.markClosed();
    this.leaveLobby(connection);
    const { serial, remoteAddress, serverClose, transportFault } = connection;
    const ending =
      serverClose !== null
        ? { ...serverClose, byServer: true }
        : transportFault !== null
          ? { code, reason: transportFault, byServer: true }
          : { code, reason, byServer: false };
    this.emit('socketClosed', { socket: serial, remoteAddress, ...ending });
  }

  private receive(connection: Connection, data: RawData, isBinary: boolean): void {
    // ws may still deliver frames that arrived before our close frame went out.
    if (connection.serverClose !== null) return;
    if (!connection.takeMessageToken()) {
      this.closeSocket(connection, CLOSE_PROTOCOL_ERROR, 'rate limit exceeded');
      return;
    }
    if (isBinary) {
      this.closeSocket(connection, CLOSE_PROTOCOL_ERROR, 'binary frame; frames must be JSON text');
      return;
    }
    // ws delivers a Buffer (binaryType 'nodebuffer', its default), even for a fragmented message.
    const parsed = parseFrame((data as Buffer).toString('utf8'), this.options.maxFrameBytes);
    if (!parsed.ok) {
      this.closeSocket(connection, parsed.code, parsed.reason);
      return;
    }
    const fault = this.route(connection, parsed.message);
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
    // SIGNALING.md: the client sends id 0 for mesh mode; the Godot demo reads any other id as server mode.
    const mesh = message.id === 0;
    const creating = message.data === '';
    let lobby: Lobby;
    if (creating) {
      const { maxLobbies } = this.options;
      if (this.lobbies.size >= maxLobbies) return `too many lobbies (limit ${maxLobbies})`;
      lobby = new Lobby(this.newLobbyName(), mesh);
    } else {
      const name = message.data;
      if (!LOBBY_NAME_PATTERN.test(name)) return 'lobby name must be 1 to 64 letters, digits, "_" or "-"';
      const found = this.lobbies.get(name);
      if (found === undefined) return `no lobby named ${name}`;
      if (found.sealed) return `lobby ${name} is sealed`;
      // The creator sets the mode; a joiner in the other mode would expect the wrong topology.
      if (found.mesh !== mesh) {
        const expected = found.mesh ? 'mesh mode: JOIN with id 0' : 'server mode: JOIN with id 1';
        return `lobby ${name} is in ${expected}`;
      }
      const { maxLobbySize } = this.options;
      if (found.members.size >= maxLobbySize) return `lobby ${name} is full (limit ${maxLobbySize})`;
      lobby = found;
    }
    clearTimeout(connection.joinTimer);
    const peerId = creating ? HOST_PEER_ID : lobby.newPeerId();
    if (creating) {
      this.lobbies.set(lobby.name, lobby);
      this.emit('lobbyCreated', lobby.name, lobby.mesh);
    }
    // SIGNALING.md's reply order: ID, then the introductions in pairs, then the JOIN confirmation.
    send(connection, { type: MessageType.Id, id: peerId, data: lobby.mesh ? 'true' : '' });
    for (const [memberId, member] of lobby.members) {
      if (!lobby.introduces(memberId, peerId)) continue;
      send(member, { type: MessageType.PeerConnect, id: peerId, data: '' });
      send(connection, { type: MessageType.PeerConnect, id: memberId, data: '' });
    }
    lobby.members.set(peerId, connection);
    connection.lobby = lobby;
    connection.peerId = peerId;
    send(connection, { type: MessageType.Join, id: 0, data: lobby.name });
    this.emit('peerJoined', lobby.name, peerId, connection.serial);
    return null;
  }

  private seal(connection: Connection): string | null {
    const lobby = connection.lobby;
    if (lobby === null) return 'SEAL before joining a lobby';
    if (connection.peerId !== HOST_PEER_ID) return 'only the lobby host may seal';
    // A repeated seal changes nothing: the members know, and the close is already scheduled.
    if (lobby.sealed) return null;
    lobby.sealed = true;
    for (const member of lobby.members.values()) send(member, { type: MessageType.Seal, id: 0, data: '' });
    lobby.sealTimer = setTimeout(
      () => this.guard(() => this.closeLobby(lobby, CLOSE_SEAL_COMPLETE, SEAL_COMPLETE_REASON)),
      this.options.sealCloseMs,
    );
    this.emit('lobbySealed', lobby.name);
    return null;
  }

  private relay(connection: Connection, message: SignalingMessage): string | null {
    const lobby = connection.lobby;
    if (lobby === null) return `message type ${message.type} before joining a lobby`;
    const destinationId = message.id;
    if (destinationId === connection.peerId) return 'destination is the sender itself';
    const destination = lobby.members.get(destinationId);
    if (destination === undefined) return `destination ${destinationId} is not in your lobby`;
    if (!lobby.introduces(connection.peerId, destinationId)) {
      return `destination ${destinationId} was not introduced to you (server mode)`;
    }
    // SIGNALING.md's "the host never offers" binds clients; the server relays as the demo does.
    // The payload stays opaque here: the receiving client validates it (parseCandidate).
    send(destination, { type: message.type, id: connection.peerId, data: message.data });
    return null;
  }

  private leaveLobby(connection: Connection): void {
    const lobby = connection.lobby;
    if (lobby === null) return;
    connection.lobby = null;
    lobby.members.delete(connection.peerId);
    this.emit('peerLeft', lobby.name, connection.peerId, connection.serial);
    if (connection.peerId === HOST_PEER_ID) {
      this.closeLobby(lobby, CLOSE_PROTOCOL_ERROR, 'lobby host has left');
      return;
    }
    for (const [memberId, member] of lobby.members) {
      if (lobby.introduces(memberId, connection.peerId)) {
        send(member, { type: MessageType.PeerDisconnect, id: connection.peerId, data: '' });
      }
    }
  }

  private closeLobby(lobby: Lobby, code: number, reason: string): void {
    this.lobbies.delete(lobby.name);
    clearTimeout(lobby.sealTimer);
    const members = [...lobby.members.values()];
    lobby.members.clear();
    // Detach first: the members' own departures must not announce anything to a lobby that is gone.
    for (const member of members) member.lobby = null;
    for (const member of members) this.closeSocket(member, code, reason);
    this.emit('lobbyClosed', lobby.name, reason);
  }

  private closeSocket(connection: Connection, code: number, reason: string): void {
    if (!this.endedByServer(connection, code, reason)) return;
    connection.socket.close(code, truncateReason(reason));
  }

  private pingAll(): void {
    for (const connection of this.connections) {
      // A closing socket is ws's to finish: it cuts off a peer that never answers the close frame.
      if (connection.socket.readyState !== WebSocket.OPEN) continue;
      if (!connection.answeredPing) {
        if (this.endedByServer(connection, CLOSE_ABNORMAL, 'no pong to the last ping')) {
          connection.socket.terminate();
        }
        continue;
      }
      connection.answeredPing = false;
      connection.socket.ping();
    }
  }

  /** Records that the server ends this socket and takes it out of its lobby; false if already ended. */
  private endedByServer(connection: Connection, code: number, reason: string): boolean {
    if (connection.serverClose !== null || connection.socket.readyState !== WebSocket.OPEN) return false;
    connection.serverClose = { code, reason };
    clearTimeout(connection.joinTimer);
    this.leaveLobby(connection);
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

  private newLobbyName(): string {
    for (;;) {
      let name = '';
      for (let i = 0; i < LOBBY_NAME_LENGTH; i++) {
        name += LOBBY_NAME_ALPHABET[randomInt(LOBBY_NAME_ALPHABET.length)];
      }
      if (!this.lobbies.has(name)) return name;
    }
  }
}

/** One lobby: its members by peer id, in the order they joined, and its mode. */
class Lobby {
  readonly members = new Map<number, Connection>();
  sealed = false;
  sealTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly name: string,
    readonly mesh: boolean,
  ) {}

  /** In server mode only the host and each client know of each other (SIGNALING.md, Joining). */
  introduces(peerId: number, otherPeerId: number): boolean {
    return this.mesh || peerId === HOST_PEER_ID || otherPeerId === HOST_PEER_ID;
  }

  newPeerId(): number {
    for (;;) {
      const peerId = randomInt(FIRST_MEMBER_PEER_ID, MAX_PEER_ID + 1);
      if (!this.members.has(peerId)) return peerId;
    }
  }
}

/** One WebSocket and what the server knows of it. */
class Connection {
  lobby: Lobby | null = null;
  peerId = 0;
  answeredPing = true;
  joinTimer: NodeJS.Timeout | undefined;
  /** Set once the server has decided to end the socket: later frames are ignored. */
  serverClose: { code: number; reason: string } | null = null;
  /** ws's message when it ended the socket over a WebSocket-level fault. */
  transportFault: string | null = null;
  readonly closed: Promise<void>;
  readonly markClosed: () => void;
  private messageTokens: number;
  private tokensCountedAt = performance.now();

  constructor(
    readonly serial: number,
    readonly socket: WebSocket,
    readonly remoteAddress: string,
    private readonly limits: Pick<Required<SignalingServerOptions>, 'messagesPerSecond' | 'messageBurst'>,
  ) {
    let markClosed = (): void => undefined;
    this.closed = new Promise((resolve) => (markClosed = resolve));
    this.markClosed = markClosed;
    this.messageTokens = limits.messageBurst;
  }

  /** Token bucket: false when the socket has used up its burst and the refill since. */
  takeMessageToken(): boolean {
    const now = performance.now();
    const refill = ((now - this.tokensCountedAt) / MS_PER_SECOND) * this.limits.messagesPerSecond;
    this.messageTokens = Math.min(this.limits.messageBurst, this.messageTokens + refill);
    this.tokensCountedAt = now;
    if (this.messageTokens < 1) return false;
    this.messageTokens -= 1;
    return true;
  }
}

function send(connection: Connection, message: SignalingMessage): void {
  if (connection.socket.readyState === WebSocket.OPEN) connection.socket.send(encodeMessage(message));
}

function sendJson(response: ServerResponse, status: number, body: object): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

/** Reasons quote network values (a lobby name, an id); keep them within a close frame. */
function truncateReason(reason: string): string {
  const bytes = Buffer.from(reason, 'utf8');
  return bytes.length <= MAX_CLOSE_REASON_BYTES
    ? reason
    : bytes.subarray(0, MAX_CLOSE_REASON_BYTES).toString('utf8').replace(/\uFFFD$/, '');
}

function resolveOptions(options: SignalingServerOptions): Required<SignalingServerOptions> {
  const resolved: Required<SignalingServerOptions> = {
    host: options.host ?? DEFAULT_OPTIONS.host,
    port: options.port ?? DEFAULT_OPTIONS.port,
    maxSockets: options.maxSockets ?? DEFAULT_OPTIONS.maxSockets,
    maxLobbies: options.maxLobbies ?? DEFAULT_OPTIONS.maxLobbies,
    maxLobbySize: options.maxLobbySize ?? DEFAULT_OPTIONS.maxLobbySize,
    maxFrameBytes: options.maxFrameBytes ?? DEFAULT_OPTIONS.maxFrameBytes,
    joinTimeoutMs: options.joinTimeoutMs ?? DEFAULT_OPTIONS.joinTimeoutMs,
    pingIntervalMs: options.pingIntervalMs ?? DEFAULT_OPTIONS.pingIntervalMs,
    sealCloseMs: options.sealCloseMs ?? DEFAULT_OPTIONS.sealCloseMs,
    messagesPerSecond: options.messagesPerSecond ?? DEFAULT_OPTIONS.messagesPerSecond,
    messageBurst: options.messageBurst ?? DEFAULT_OPTIONS.messageBurst,
  };
  // The options may come from a command line or a JSON file: check the types too.
  if (typeof resolved.host !== 'string' || resolved.host === '') {
    throw invalidOption('host', 'a non-empty address such as "127.0.0.1"');
  }
  requireInteger(resolved, 'port', 0, MAX_PORT);
  requireInteger(resolved, 'maxSockets', 1, Number.MAX_SAFE_INTEGER);
  requireInteger(resolved, 'maxLobbies', 1, Number.MAX_SAFE_INTEGER);
  requireInteger(resolved, 'maxLobbySize', 1, Number.MAX_SAFE_INTEGER);
  const maxFrameBytes = Math.floor(Number.MAX_SAFE_INTEGER / WS_PAYLOAD_HEADROOM_FACTOR);
  requireInteger(resolved, 'maxFrameBytes', 1, maxFrameBytes);
  requireInteger(resolved, 'joinTimeoutMs', 1, MAX_TIMER_MS);
  requireInteger(resolved, 'pingIntervalMs', 1, MAX_TIMER_MS);
  requireInteger(resolved, 'sealCloseMs', 1, MAX_TIMER_MS);
  requireInteger(resolved, 'messageBurst', 1, Number.MAX_SAFE_INTEGER);
  const rate: unknown = resolved.messagesPerSecond;
  if (typeof rate !== 'number' || !Number.isFinite(rate) || rate <= 0) {
    throw invalidOption('messagesPerSecond', 'a positive number');
  }
  return resolved;
}

type IntegerOption = Exclude<keyof SignalingServerOptions, 'host' | 'messagesPerSecond'>;

function requireInteger(
  options: Required<SignalingServerOptions>,
  key: IntegerOption,
  min: number,
  max: number,
): void {
  const value: unknown = options[key];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidOption(key, `an integer in ${min}…${max}`);
  }
}

function invalidOption(key: keyof SignalingServerOptions, expected: string): RtcError {
  return new RtcError('ERR_INVALID_PARAMETER', `SignalingServerOptions.${key} must be ${expected}`);
}
