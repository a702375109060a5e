// The arena's simulation: players move by their input, fire while it says so, and a shot that
// reaches another player scores a point for its owner. Pure and deterministic for a given random
// source: the server runs it, and a client could run it too to predict its own moves.
import {
  FIRE_COOLDOWN_TICKS,
  MAX_PLAYERS,
  MAX_SHOTS,
  PLAYER_RADIUS,
  PLAYER_SPEED,
  SHOT_LIFETIME_TICKS,
  SHOT_RADIUS,
  SHOT_SPEED,
  WORLD_HEIGHT,
  WORLD_WIDTH,
} from './rules.js';
import type { PlayerState, ShotState } from './entities.js';

/** A shot that reached a player in the last step. */
export interface Hit {
  shooter: number;
  target: number;
  /** The shooter's points after this hit. */
  shooterScore: number;
}

interface Player {
  id: number;
  x: number;
  y: number;
  facing: number;
  dx: number;
  dy: number;
  fire: boolean;
  cooldown: number;
  score: number;
}

interface Shot {
  /** The shot's number, unique in the match. */
  id: number;
  owner: number;
  x: number;
  y: number;
  vx: number;
  vy: number;
  ticksLeft: number;
}

const HIT_DISTANCE = PLAYER_RADIUS + SHOT_RADIUS;

/** The authoritative state of one arena, advanced one tick at a time by {@link step}. */
export class World {
  private readonly players = new Map<number, Player>();
  private shots: Shot[] = [];
  private lastShotId = 0;

  /** @param random the source of spawn points, `Math.random` by default: a seeded one replays a match. */
  constructor(private readonly random: () => number = Math.random) {}

  /** Adds player `id` at a random spot, facing right. Returns false when the arena is full or has it already. */
  addPlayer(id: number): boolean {
    if (this.players.size >= MAX_PLAYERS || this.players.has(id)) return false;
    this.players.set(id, { id, ...this.spawnPoint(), facing: 0, dx: 0, dy: 0, fire: false, cooldown: 0, score: 0 });
    return true;
  }

  /** Removes player `id` and the shots it has in flight. Returns false when it was not playing. */
  removePlayer(id: number): boolean {
    if (!this.players.delete(id)) return false;
    this.shots = this.shots.filter((shot) => shot.owner !== id);
    return true;
  }

  /** The ids of the players in the arena. */
  playerIds(): number[] {
    return [...this.players.keys()];
  }

  /** Player `id`'s points; 0 for an unknown player. */
  scoreOf(id: number): number {
    return this.players.get(id)?.score ?? 0;
  }

  /**
   * Sets player `id`'s controls until the next input. The values come from the network: anything
   * but a finite number counts as 0, each axis is clamped to -1..1, a longer vector is shortened
   * to 1 (no faster diagonals), and only `true` fires. An unknown id is ignored.
   */
  setInput(id: number, dx: unknown, dy: unknown, fire: unknown): void {
    const player = this.players.get(id);
    if (!player) return;
    let x = axis(dx);
    let y = axis(dy);
    const length = Math.hypot(x, y);
    if (length > 1) {
      x /= length;
      y /= length;
    }
    player.dx = x;
    player.dy = y;
    player.fire = fire === true;
  }

  /** Advances the arena one tick and returns the hits of that tick. */
  step(): Hit[] {
    for (const player of this.players.values()) this.movePlayer(player);
    const hits: Hit[] = [];
    const flying: Shot[] = [];
    for (const shot of this.shots) {
      shot.x += shot.vx;
      shot.y += shot.vy;
      shot.ticksLeft--;
      const target = this.playerHitBy(shot);
      if (target) hits.push(this.score(shot.owner, target));
      else if (shot.ticksLeft > 0 && insideArena(shot.x, shot.y)) flying.push(shot);
    }
    this.shots = flying;
    return hits;
  }

  /** Every player as of the last step. */
  playerStates(): PlayerState[] {
    return [...this.players.values()].map(({ id, x, y, facing }) => ({ id, x, y, facing }));
  }

  /** Every shot in flight as of the last step, by its number. */
  shotStates(): Map<number, ShotState> {
    return new Map(this.shots.map(({ id, owner, x, y }) => [id, { owner, x, y }]));
  }

  private movePlayer(player: Player): void {
    if (player.dx !== 0 || player.dy !== 0) {
      player.facing = Math.atan2(player.dy, player.dx);
      player.x = clamp(player.x + player.dx * PLAYER_SPEED, PLAYER_RADIUS, WORLD_WIDTH - PLAYER_RADIUS);
      player.y = clamp(player.y + player.dy * PLAYER_SPEED, PLAYER_RADIUS, WORLD_HEIGHT - PLAYER_RADIUS);
    }
    if (player.cooldown > 0) player.cooldown--;
    if (player.fire && player.cooldown === 0 && this.shots.length < MAX_SHOTS) {
      player.cooldown = FIRE_COOLDOWN_TICKS;
      const vx = Math.cos(player.facing);
      const vy = Math.sin(player.facing);
      // From the rim, so that a shot never starts inside its own shooter.
      const start = PLAYER_RADIUS + SHOT_RADIUS;
      this.shots.push({
        id: ++this.lastShotId,
        owner: player.id,
        x: player.x + vx * start,
        y: player.y + vy * start,
        vx: vx * SHOT_SPEED,
        vy: vy * SHOT_SPEED,
        ticksLeft: SHOT_LIFETIME_TICKS,
      });
    }
  }

  private playerHitBy(shot: Shot): Player | undefined {
    for (const player of this.players.values()) {
      if (player.id !== shot.owner && Math.hypot(player.x - shot.x, player.y - shot.y) <= HIT_DISTANCE) return player;
    }
    return undefined;
  }

  private score(shooterId: number, target: Player): Hit {
    const shooter = this.players.get(shooterId);
    if (shooter) shooter.score++;
    Object.assign(target, this.spawnPoint());
    return { shooter: shooterId, target: target.id, shooterScore: shooter?.score ?? 0 };
  }

  private spawnPoint(): { x: number; y: number } {
    return {
      x: PLAYER_RADIUS + this.random() * (WORLD_WIDTH - 2 * PLAYER_RADIUS),
      y: PLAYER_RADIUS + this.random() * (WORLD_HEIGHT - 2 * PLAYER_RADIUS),
    };
  }
}

function axis(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? clamp(value, -1, 1) : 0;
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(Math.max(value, min), max);
}

function insideArena(x: number, y: number): boolean {
  return x >= 0 && x <= WORLD_WIDTH && y >= 0 && y <= WORLD_HEIGHT;
}
