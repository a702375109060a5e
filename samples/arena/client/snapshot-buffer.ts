// Interpolation: the client draws the arena as it was RENDER_DELAY_MS ago, between the two
// snapshots around that moment, so that players glide at any frame rate and a lost snapshot or
// an uneven arrival does not show as a jerk.
import { PLAYER_SPEED, RENDER_DELAY_MS, TICK_MS } from '../shared/rules.js';
import type { PlayerState, ShotState, Snapshot } from '../shared/snapshot.js';

/** What to draw: the players and shots at one moment. */
export interface Frame {
  players: PlayerState[];
  shots: ShotState[];
}

// Snapshots kept at most: a second's worth, far more than the render delay needs.
const MAX_BUFFERED = 60;
// How fast the estimate of the server's clock follows each arrival: slowly, to smooth the jitter.
const CLOCK_SMOOTHING = 0.05;
// An arrival this far off the estimate means the estimate is wrong (a stall): start over from it.
const CLOCK_RESYNC_MS = 500;

/** The snapshots received, and the arena between them at any moment. */
export class SnapshotBuffer {
  private readonly snapshots: Snapshot[] = [];
  // Local time minus server time (its tick times TICK_MS) at arrival, smoothed: latency included.
  private clockOffsetMs = NaN;

  /** Adds a snapshot that arrived at `arrivedMs` (`performance.now()`); an older tick than the newest is ignored. */
  push(snapshot: Snapshot, arrivedMs: number): void {
    const newest = this.snapshots.at(-1);
    if (newest && snapshot.tick <= newest.tick) return;
    const offset = arrivedMs - snapshot.tick * TICK_MS;
    const resync = Number.isNaN(this.clockOffsetMs) || Math.abs(offset - this.clockOffsetMs) > CLOCK_RESYNC_MS;
    this.clockOffsetMs = resync ? offset : this.clockOffsetMs + (offset - this.clockOffsetMs) * CLOCK_SMOOTHING;
    this.snapshots.push(snapshot);
    if (this.snapshots.length > MAX_BUFFERED) this.snapshots.shift();
  }

  /** The arena as it was RENDER_DELAY_MS before `nowMs`; null before the first snapshot. */
  sample(nowMs: number): Frame | null {
    const tick = (nowMs - this.clockOffsetMs - RENDER_DELAY_MS) / TICK_MS;
    // Snapshots before the one at or just before that moment will not be needed again.
    while (this.snapshots.length > 1 && this.snapshots[1]!.tick <= tick) this.snapshots.shift();
    const [from, to] = this.snapshots;
    if (!from) return null;
    // Starved (nothing newer arrived) or not yet there: hold still rather than guess.
    if (!to || tick <= from.tick) return { players: from.players, shots: from.shots };
    const t = (tick - from.tick) / (to.tick - from.tick);
    const before = new Map(from.players.map((player) => [player.id, player]));
    // Faster than a player can move: a respawn, drawn at its new place at once.
    const maxMove = PLAYER_SPEED * (to.tick - from.tick) + 1;
    const players = to.players.map((next) => {
      const previous = before.get(next.id);
      if (!previous || Math.hypot(next.x - previous.x, next.y - previous.y) > maxMove) return next;
      return {
        id: next.id,
        x: previous.x + (next.x - previous.x) * t,
        y: previous.y + (next.y - previous.y) * t,
        facing: previous.facing + shortestTurn(previous.facing, next.facing) * t,
      };
    });
    // Shots carry no id to pair them by; at 60 snapshots a second the nearer set is close enough.
    return { players, shots: t < 0.5 ? from.shots : to.shots };
  }
}

/** The signed angle from `a` to `b` the short way round, in -PI..PI. */
function shortestTurn(a: number, b: number): number {
  const turn = (((b - a) % (2 * Math.PI)) + 3 * Math.PI) % (2 * Math.PI);
  return turn - Math.PI;
}
