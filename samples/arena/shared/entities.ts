// The arena's replicated entities: the players and the shots in flight, each a spawner that the
// server and every client add alike. The server spawns, moves and despawns them; rtcmesh sends
// their state to the clients 20 times a second as deltas, and each client draws them between
// the snapshots it received (MultiplayerSynchronizer.interpolate).
//
// Bundled into the browser client as well as the Node.js server and bot: 'rtcmesh' is the
// package's browser entry in the first (its `browser` condition), its Node.js entry in the others.
import type { MultiplayerAPI, MultiplayerSpawner } from 'rtcmesh';
import { MAX_PLAYERS, MAX_SHOTS, TICK_HZ, WORLD_HEIGHT, WORLD_WIDTH } from './rules.js';

/** A player as the clients see it. */
export interface PlayerState {
  /** The player's peer id: the spawn data. */
  id: number;
  x: number;
  y: number;
  /** The direction the player faces and fires in, in radians. */
  facing: number;
}

/** A shot in flight. */
export interface ShotState {
  /** The peer id of the player who fired it: the spawn data. */
  owner: number;
  x: number;
  y: number;
}

/** State travels at a third of the simulation's rate; clients interpolate the frames between. */
export const STATE_INTERVAL_MS = 3000 / TICK_HZ;

// Positions to 1/32 of a unit (finer than a pixel), in two bytes; a facing in 256 steps, one byte.
const POSITION_STEP = 1 / 32;
const x = { type: { type: 'quantized', min: 0, max: WORLD_WIDTH, precision: POSITION_STEP } } as const;
const y = { type: { type: 'quantized', min: 0, max: WORLD_HEIGHT, precision: POSITION_STEP } } as const;
const facing = { type: { type: 'quantized', min: 0, max: 2 * Math.PI, precision: (2 * Math.PI) / 255 }, interpolation: 'angle' } as const;

export type PlayerSpawner = MultiplayerSpawner<PlayerState, number, never>;
export type ShotSpawner = MultiplayerSpawner<ShotState, number, never>;

/** The players' spawner: spawn data is the player's peer id. A player hit respawns as a new entity. */
export function addPlayers(api: MultiplayerAPI): PlayerSpawner {
  return api.addSpawner('/players', {
    spawnFunction: (id: number): PlayerState => ({ id, x: 0, y: 0, facing: 0 }),
    properties: { x, y, facing },
    spawnLimit: MAX_PLAYERS,
    replicationIntervalMs: STATE_INTERVAL_MS,
  });
}

/** The shots' spawner: spawn data is the shooter's peer id. */
export function addShots(api: MultiplayerAPI): ShotSpawner {
  return api.addSpawner('/shots', {
    spawnFunction: (owner: number): ShotState => ({ owner, x: 0, y: 0 }),
    properties: { x, y },
    spawnLimit: MAX_SHOTS,
    replicationIntervalMs: STATE_INTERVAL_MS,
  });
}

/** A facing in 0 … 2π, as the facing property holds it. */
export function normalFacing(radians: number): number {
  const turn = 2 * Math.PI;
  return ((radians % turn) + turn) % turn;
}
