/**
 * The world the replication benchmark moves: 2D entities of x, y (16-bit quantized), angle (8
 * bits) and hp (8 bits), each following a path of straight runs with turns and stops, a pure
 * function of time so that a receiver's view can be held against where the entity truly was.
 */
import type { MultiplayerAPI, MultiplayerSpawner } from '../src/index.js';
import { seededRandom } from '../src/conditioner/seeded-random.js';

export const WORLD_SIZE = 1000;
/** Units a second an entity covers while it moves. */
export const SPEED = 100;
const SEGMENT_MS = 800;
/** Every fourth segment an entity stands still. */
const STOP_EVERY = 4;

/** The replicated object. */
export interface Ship {
  x: number;
  y: number;
  angle: number;
  hp: number;
  /** The same state as an RPC, for the side-by-side figure. */
  state(x: number, y: number, angle: number, hp: number): void;
}

export const SHIP_PROPERTIES = {
  x: { type: { type: 'quantized', min: 0, max: WORLD_SIZE, precision: WORLD_SIZE / 65535 } },
  y: { type: { type: 'quantized', min: 0, max: WORLD_SIZE, precision: WORLD_SIZE / 65535 } },
  angle: { type: { type: 'quantized', min: 0, max: 2 * Math.PI, precision: (2 * Math.PI) / 255 }, interpolation: 'angle' },
  hp: 'u8',
} as const;

export type ShipSpawner = MultiplayerSpawner<Ship, number, 'state'>;

/** The spawner of ships, the same on every peer; `intervalMs` is the replication interval. */
export function addShips(api: MultiplayerAPI, intervalMs = 0): ShipSpawner {
  return api.addSpawner('/ships', {
    spawnFunction: (): Ship => ({ x: WORLD_SIZE / 2, y: WORLD_SIZE / 2, angle: 0, hp: 100, state: () => undefined }),
    properties: SHIP_PROPERTIES,
    rpc: { state: { mode: 'authority', transferMode: 1 } },
    replicationIntervalMs: intervalMs,
  });
}

/** Where one entity is at a time, following its own seeded path. */
export class Path {
  // Where each segment starts, and its heading (NaN: a stop), as far as computed.
  private readonly starts: Array<{ x: number; y: number; heading: number }> = [];
  private readonly random: () => number;

  constructor(seed: number) {
    this.random = seededRandom(seed);
    this.starts.push({ x: 100 + this.random() * (WORLD_SIZE - 200), y: 100 + this.random() * (WORLD_SIZE - 200), heading: this.nextHeading(0, 0, 0) });
  }

  /** The position and facing at `ms` (from the path's start, 0 or more). */
  at(ms: number): { x: number; y: number; angle: number } {
    const segment = Math.floor(Math.max(0, ms) / SEGMENT_MS);
    while (this.starts.length <= segment + 1) {
      const last = this.starts[this.starts.length - 1]!;
      const end = this.advance(last, SEGMENT_MS);
      this.starts.push({ ...end, heading: this.nextHeading(this.starts.length, end.x, end.y) });
    }
    const start = this.starts[segment]!;
    const position = this.advance(start, Math.max(0, ms) - segment * SEGMENT_MS);
    const facing = Number.isNaN(start.heading) ? this.lastHeading(segment) : start.heading;
    return { ...position, angle: ((facing % (2 * Math.PI)) + 2 * Math.PI) % (2 * Math.PI) };
  }

  private advance(start: { x: number; y: number; heading: number }, ms: number): { x: number; y: number } {
    if (Number.isNaN(start.heading)) return { x: start.x, y: start.y };
    const distance = (SPEED * ms) / 1000;
    return { x: start.x + Math.cos(start.heading) * distance, y: start.y + Math.sin(start.heading) * distance };
  }

  // A turn of up to 90° either way, bent toward the centre near an edge; NaN every STOP_EVERY-th segment.
  private nextHeading(segment: number, x: number, y: number): number {
    if (segment % STOP_EVERY === STOP_EVERY - 1) return Number.NaN;
    const previous = segment === 0 ? this.random() * 2 * Math.PI : this.lastHeading(segment);
    const margin = (SPEED * SEGMENT_MS) / 1000 + 10;
    if (x < margin || y < margin || x > WORLD_SIZE - margin || y > WORLD_SIZE - margin) return Math.atan2(WORLD_SIZE / 2 - y, WORLD_SIZE / 2 - x);
    return previous + (this.random() - 0.5) * Math.PI;
  }

  private lastHeading(segment: number): number {
    for (let index = Math.min(segment, this.starts.length - 1); index >= 0; index--) {
      if (!Number.isNaN(this.starts[index]!.heading)) return this.starts[index]!.heading;
    }
    return 0;
  }
}
