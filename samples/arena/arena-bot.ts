// One headless player: joins the arena's lobby as a client of the server, wanders, and now and
// then chases the nearest player, firing. It plays by the replicated players alone, as a browser
// draws them, and leaves the events to the people watching.
import { MultiplayerAPI, SignalingClient, TARGET_PEER_SERVER } from 'rtcmesh';
import { LOOPBACK_HOST } from './loopback.js';
import { type ArenaNode, registerArena } from './shared/protocol.js';
import { TICK_HZ, WORLD_HEIGHT, WORLD_WIDTH } from './shared/rules.js';
import { type PlayerSpawner, type PlayerState, addPlayers } from './shared/entities.js';

/** Where a bot's game stands: joining the lobby and connecting, playing, or over. */
export type BotPhase = 'joining' | 'playing' | 'ended';

// A bot keeps a plan for a third of a second to a second, then makes another.
const MIN_PLAN_TICKS = TICK_HZ / 3;
const MAX_PLAN_TICKS = TICK_HZ;
// Of its plans, this share chases the nearest player (firing all the way); the others wander.
const CHASE_CHANCE = 0.5;
const WANDER_FIRE_CHANCE = 0.2;
// Closer than this to a wall, a bot heads back towards the middle.
const WALL_MARGIN = 60;

/** A bot in the arena: call {@link frame} once a tick, and {@link close} it at the end. */
export class ArenaBot {
  private readonly signaling: SignalingClient;
  private readonly api = new MultiplayerAPI();
  private readonly arena: ArenaNode;
  private currentPhase: BotPhase = 'joining';
  private played = false;
  private reason = '';
  private readonly players: PlayerSpawner;
  private heading: number;
  private firing = false;
  private planTicksLeft = 0;

  /**
   * Joins lobby `lobby` through the signaling server at `url`.
   * @param random the bot's source of decisions, `Math.random` by default.
   * @throws RtcError ERR_INVALID_PARAMETER for a URL the WebSocket refuses.
   */
  constructor(url: string, lobby: string, private readonly random: () => number = Math.random) {
    this.heading = random() * 2 * Math.PI;
    this.signaling = new SignalingClient({ url, lobby, mesh: false, peerConfig: { bindAddress: LOOPBACK_HOST } });
    this.api.multiplayerPeer = this.signaling.multiplayerPeer;
    this.arena = registerArena(this.api, {});
    this.players = addPlayers(this.api);
    this.api.on('connectedToServer', () => {
      this.currentPhase = 'playing';
      this.played = true;
    });
    this.api.on('serverDisconnected', () => this.end('the server went away'));
    this.api.on('connectionFailed', () => this.end('could not connect to the server'));
    this.signaling.on('disconnected', (code, reason) => {
      // Once playing, the game outlives signaling.
      if (this.currentPhase === 'joining') this.end(`the signaling server closed the connection (${code} ${reason})`);
    });
    this.signaling.connect();
  }

  /** This bot's peer id; 0 before the signaling server gave one. */
  get id(): number {
    return this.api.getUniqueId();
  }

  /** Where the bot's game stands, as of the last frame. */
  get phase(): BotPhase {
    return this.currentPhase;
  }

  /** Whether the bot has reached the server at some point. */
  get hasPlayed(): boolean {
    return this.played;
  }

  /** Why the game is over, once it is. */
  get endReason(): string {
    return this.reason;
  }

  /** One frame: polls, makes a new plan when the old one is over, and sends this tick's input. */
  frame(ticks: number): void {
    this.api.poll();
    if (this.currentPhase !== 'playing') return;
    this.planTicksLeft -= ticks;
    if (this.planTicksLeft <= 0) this.plan();
    this.arena.rpcId(TARGET_PEER_SERVER, 'input', Math.cos(this.heading), Math.sin(this.heading), this.firing);
  }

  /** Leaves the lobby and closes the bot's connection. */
  close(): void {
    this.signaling.close();
    this.api.multiplayerPeer?.close();
  }

  private plan(): void {
    this.planTicksLeft = MIN_PLAN_TICKS + this.random() * (MAX_PLAN_TICKS - MIN_PLAN_TICKS);
    const players = this.players.getEntities().map((entity) => entity.target);
    const me = players.find((player) => player.id === this.id);
    const prey = me && nearest(me, players);
    if (me && prey && this.random() < CHASE_CHANCE) {
      this.heading = Math.atan2(prey.y - me.y, prey.x - me.x);
      this.firing = true;
      return;
    }
    this.firing = this.random() < WANDER_FIRE_CHANCE;
    const nearWall = me && (Math.min(me.x, WORLD_WIDTH - me.x) < WALL_MARGIN || Math.min(me.y, WORLD_HEIGHT - me.y) < WALL_MARGIN);
    this.heading = nearWall ? Math.atan2(WORLD_HEIGHT / 2 - me.y, WORLD_WIDTH / 2 - me.x) : this.random() * 2 * Math.PI;
  }

  private end(reason: string): void {
    if (this.currentPhase === 'ended') return;
    this.currentPhase = 'ended';
    this.reason = reason;
  }
}

function nearest(me: PlayerState, players: readonly PlayerState[]): PlayerState | undefined {
  let best: PlayerState | undefined;
  let bestDistance = Infinity;
  for (const player of players) {
    const distance = Math.hypot(player.x - me.x, player.y - me.y);
    if (player.id !== me.id && distance < bestDistance) {
      best = player;
      bestDistance = distance;
    }
  }
  return best;
}
