// The arena's dedicated server: the lobby host (peer 1) of a server-mode lobby, authoritative
// over the game. Clients send their input; the server simulates at TICK_HZ, mirrors its players
// and shots into spawned entities (rtcmesh replicates their state, as deltas, 20 times a second),
// and sends the game's events as reliable RPCs. It runs the signaling server and the page server
// beside it, all on loopback.
import { type Entity, MultiplayerAPI, SignalingClient, SignalingServer } from 'rtcmesh';
import { LOOPBACK_HOST } from './loopback.js';
import { type PageServer, servePages } from './page-server.js';
import { type ArenaNode, registerArena } from './shared/protocol.js';
import { MAX_PLAYERS } from './shared/rules.js';
import { type PlayerSpawner, type PlayerState, type ShotSpawner, type ShotState, addPlayers, addShots, normalFacing } from './shared/entities.js';
import { startTicker } from './shared/ticker.js';
import { World } from './shared/world.js';

/** Where an {@link ArenaServer} listens, and what it serves. */
export interface ArenaServerOptions {
  /** The page server's TCP port; 0 picks a free one. */
  httpPort: number;
  /** The signaling server's TCP port; 0 picks a free one. */
  signalingPort: number;
  /** The directory of the built browser client: index.html and main.js. */
  publicDir: string;
  /** Where the server tells of players joining and leaving. */
  log: (line: string) => void;
}

// The server's own join, a WebSocket round trip on loopback: anything slower is a fault.
const LOBBY_TIMEOUT_MS = 10_000;

/**
 * A running arena: signaling server, page server and game server. Start it with
 * {@link ArenaServer.start}; {@link close} it, then call rtcmesh's `cleanup()` once.
 */
export class ArenaServer {
  private readonly world = new World();
  private readonly api = new MultiplayerAPI();
  private readonly arena: ArenaNode;
  private readonly players: PlayerSpawner;
  private readonly shots: ShotSpawner;
  /** The entity of each player and shot of the world, by peer id and by shot number. */
  private readonly playerEntities = new Map<number, Entity<PlayerState, never>>();
  private readonly shotEntities = new Map<number, Entity<ShotState, never>>();
  private readonly signaling: SignalingClient;
  private stopTicker: (() => void) | null = null;
  private lobbyName = '';

  /**
   * Starts the signaling server, the page server, and the game server, which creates the lobby.
   * Resolves once the lobby exists; rejects when a port cannot be bound or the lobby is refused.
   */
  static async start(options: ArenaServerOptions): Promise<ArenaServer> {
    // One more than the players: the server is a member of its lobby too.
    const signalingServer = new SignalingServer({ host: LOOPBACK_HOST, port: options.signalingPort, maxLobbySize: MAX_PLAYERS + 1 });
    const { url } = await signalingServer.listen();
    let pages: PageServer;
    try {
      pages = await servePages(options.publicDir, LOOPBACK_HOST, options.httpPort);
    } catch (error) {
      await signalingServer.close();
      throw error;
    }
    const server = new ArenaServer(signalingServer, pages, url, options.log);
    try {
      await server.openLobby();
    } catch (error) {
      await server.close();
      throw error;
    }
    return server;
  }

  private constructor(
    private readonly signalingServer: SignalingServer,
    private readonly pages: PageServer,
    /** The signaling server's WebSocket URL, which clients and bots join through. */
    readonly signalingUrl: string,
    private readonly log: (line: string) => void,
  ) {
    this.signaling = new SignalingClient({ url: signalingUrl, mesh: false, peerConfig: { bindAddress: LOOPBACK_HOST } });
    // Clients have nothing to say to one another: every call goes to the server's own logic.
    this.api.serverRelay = false;
    this.api.multiplayerPeer = this.signaling.multiplayerPeer;
    this.arena = registerArena(this.api, {
      input: (dx, dy, fire) => this.world.setInput(this.api.getRemoteSenderId(), dx, dy, fire),
    });
    this.players = addPlayers(this.api);
    this.shots = addShots(this.api);
    this.api.on('peerConnected', (id) => this.welcome(id));
    this.api.on('peerDisconnected', (id) => this.farewell(id));
    this.api.on('error', (error, context) => this.log(`arena: peer ${context.peerId}: ${error.message}`));
  }

  /** The lobby's name: what clients and bots join. */
  get lobby(): string {
    return this.lobbyName;
  }

  /** The page to open in a browser: the page server's address, with the lobby and the signaling URL in the query. */
  get pageUrl(): string {
    const url = new URL(this.pages.url);
    url.searchParams.set('lobby', this.lobby);
    url.searchParams.set('signaling', this.signalingUrl);
    return url.href;
  }

  /** Stops the game and both servers. Call rtcmesh's `cleanup()` after it. */
  async close(): Promise<void> {
    this.stopTicker?.();
    this.stopTicker = null;
    this.signaling.close();
    this.api.multiplayerPeer?.close();
    await Promise.all([this.signalingServer.close(), this.pages.close()]);
  }

  /** Creates the lobby and starts the game loop, which polls the signaling client from then on. */
  private async openLobby(): Promise<void> {
    const joined = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no lobby after ${LOBBY_TIMEOUT_MS} ms`)), LOBBY_TIMEOUT_MS);
      this.signaling.once('lobbyJoined', (lobby) => {
        clearTimeout(timer);
        resolve(lobby);
      });
      this.signaling.once('disconnected', (code, reason) => {
        clearTimeout(timer);
        reject(new Error(`the signaling server refused the lobby (${code} ${reason})`));
      });
    });
    this.signaling.connect();
    this.stopTicker = startTicker((ticks) => this.frame(ticks));
    this.lobbyName = await joined;
    this.signaling.on('disconnected', (code, reason) => this.log(`arena: signaling ended (${code} ${reason}); the game goes on`));
  }

  /**
   * One frame: the ticks that came due, the world mirrored into its entities, then a poll, which
   * runs what arrived and replicates what changed.
   */
  private frame(ticks: number): void {
    for (let n = 0; n < ticks; n++) {
      for (const { shooter, target, shooterScore } of this.world.step()) {
        this.arena.rpc('hit', shooter, target);
        this.arena.rpc('score', shooter, shooterScore);
        // A hit player reappears elsewhere: a new entity, so that no client glides it across the arena.
        this.respawn(target);
      }
    }
    if (ticks > 0) this.mirror();
    this.api.poll();
  }

  /** Moves every entity to where the world has its player or shot; spawns and despawns shots. */
  private mirror(): void {
    for (const { id, x, y, facing } of this.world.playerStates()) {
      const entity = this.playerEntities.get(id);
      if (entity) Object.assign(entity.target, { x, y, facing: normalFacing(facing) });
    }
    const shots = this.world.shotStates();
    for (const [number, entity] of this.shotEntities) {
      if (shots.has(number)) continue;
      this.shots.despawn(entity);
      this.shotEntities.delete(number);
    }
    for (const [number, { owner, x, y }] of shots) {
      let entity = this.shotEntities.get(number);
      if (!entity) this.shotEntities.set(number, (entity = this.shots.spawn(owner)));
      Object.assign(entity.target, { x, y });
    }
  }

  private respawn(id: number): void {
    const entity = this.playerEntities.get(id);
    if (entity) this.players.despawn(entity);
    const state = this.world.playerStates().find((player) => player.id === id);
    if (!state) return;
    const spawned = this.players.spawn(id);
    Object.assign(spawned.target, { x: state.x, y: state.y, facing: normalFacing(state.facing) });
    this.playerEntities.set(id, spawned);
  }

  private welcome(id: number): void {
    if (!this.world.addPlayer(id)) {
      this.signaling.multiplayerPeer.disconnectPeer(id);
      return;
    }
    this.respawn(id);
    // The newcomer learns who is here already; then everyone, the newcomer too, learns of it.
    for (const other of this.world.playerIds()) {
      if (other === id) continue;
      this.arena.rpcId(id, 'joined', other);
      this.arena.rpcId(id, 'score', other, this.world.scoreOf(other));
    }
    this.arena.rpc('joined', id);
    this.log(`arena: peer ${id} joined (${this.world.playerIds().length} playing)`);
  }

  private farewell(id: number): void {
    // A peer turned away in welcome() never played.
    if (!this.world.removePlayer(id)) return;
    const entity = this.playerEntities.get(id);
    if (entity) this.players.despawn(entity);
    this.playerEntities.delete(id);
    this.mirror();
    this.arena.rpc('left', id);
    this.log(`arena: peer ${id} left (${this.world.playerIds().length} playing)`);
  }
}
