// The state snapshot the server sends every tick: compact binary, sent with sendBytes on the
// UnreliableOrdered channel (the newest wins, a lost one is replaced a tick later). What arrives
// is decoded here and nowhere else, and anything malformed is refused whole.
//
// Layout, little-endian:
//   u8 tag (SNAPSHOT_TAG) | u32 tick | u8 player count | u8 shot count
//   per player: u32 id | u16 x | u16 y | u8 facing
//   per shot:   u32 owner id | u16 x | u16 y
// Positions are in 1/POSITION_SCALE world units; facing is an angle in 1/256 turns.
import { MAX_PLAYERS, MAX_SHOTS, WORLD_HEIGHT, WORLD_WIDTH } from './rules.js';

/** A player as the snapshot tells it. */
export interface PlayerState {
  /** The player's peer id. */
  id: number;
  x: number;
  y: number;
  /** The direction the player faces and fires in, in radians. */
  facing: number;
}

/** A shot in flight. */
export interface ShotState {
  /** The peer id of the player who fired it. */
  owner: number;
  x: number;
  y: number;
}

/** The state of the arena after one tick. */
export interface Snapshot {
  tick: number;
  players: PlayerState[];
  shots: ShotState[];
}

/** The first byte of every snapshot: anything else the server's peer sends is not one. */
export const SNAPSHOT_TAG = 0xa5;

const HEADER_BYTES = 7;
const PLAYER_BYTES = 9;
const SHOT_BYTES = 8;
// 1/32 of a unit is finer than a pixel, and the largest coordinate, 800 * 32, fits a u16.
const POSITION_SCALE = 32;
const FACING_STEPS = 256;
const TURN = 2 * Math.PI;
const MAX_TICK = 0xffffffff;
const LITTLE_ENDIAN = true;

/** Encodes a snapshot; positions are clamped to the arena and the tick wraps at 2^32. */
export function encodeSnapshot(snapshot: Snapshot): Uint8Array {
  const { players, shots } = snapshot;
  if (players.length > MAX_PLAYERS || shots.length > MAX_SHOTS) {
    throw new RangeError(`a snapshot holds at most ${MAX_PLAYERS} players and ${MAX_SHOTS} shots`);
  }
  const bytes = new Uint8Array(HEADER_BYTES + players.length * PLAYER_BYTES + shots.length * SHOT_BYTES);
  const view = new DataView(bytes.buffer);
  view.setUint8(0, SNAPSHOT_TAG);
  view.setUint32(1, snapshot.tick % (MAX_TICK + 1), LITTLE_ENDIAN);
  view.setUint8(5, players.length);
  view.setUint8(6, shots.length);
  let at = HEADER_BYTES;
  for (const player of players) {
    view.setUint32(at, player.id, LITTLE_ENDIAN);
    view.setUint16(at + 4, toFixed(player.x, WORLD_WIDTH), LITTLE_ENDIAN);
    view.setUint16(at + 6, toFixed(player.y, WORLD_HEIGHT), LITTLE_ENDIAN);
    const turns = (((player.facing / TURN) % 1) + 1) % 1;
    view.setUint8(at + 8, Math.round(turns * FACING_STEPS) % FACING_STEPS);
    at += PLAYER_BYTES;
  }
  for (const shot of shots) {
    view.setUint32(at, shot.owner, LITTLE_ENDIAN);
    view.setUint16(at + 4, toFixed(shot.x, WORLD_WIDTH), LITTLE_ENDIAN);
    view.setUint16(at + 6, toFixed(shot.y, WORLD_HEIGHT), LITTLE_ENDIAN);
    at += SHOT_BYTES;
  }
  return bytes;
}

/**
 * Decodes bytes from the network into a snapshot, or null when they are not a well-formed one:
 * wrong tag or length, counts over the limits, a position outside the arena, a peer id of 0.
 */
export function decodeSnapshot(bytes: Uint8Array): Snapshot | null {
  if (bytes.byteLength < HEADER_BYTES || bytes[0] !== SNAPSHOT_TAG) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const playerCount = view.getUint8(5);
  const shotCount = view.getUint8(6);
  if (playerCount > MAX_PLAYERS || shotCount > MAX_SHOTS) return null;
  if (bytes.byteLength !== HEADER_BYTES + playerCount * PLAYER_BYTES + shotCount * SHOT_BYTES) return null;
  const players: PlayerState[] = [];
  const shots: ShotState[] = [];
  let at = HEADER_BYTES;
  for (let n = 0; n < playerCount; n++, at += PLAYER_BYTES) {
    const player = {
      id: view.getUint32(at, LITTLE_ENDIAN),
      x: view.getUint16(at + 4, LITTLE_ENDIAN) / POSITION_SCALE,
      y: view.getUint16(at + 6, LITTLE_ENDIAN) / POSITION_SCALE,
      facing: (view.getUint8(at + 8) / FACING_STEPS) * TURN,
    };
    if (player.id === 0 || !inArena(player)) return null;
    players.push(player);
  }
  for (let n = 0; n < shotCount; n++, at += SHOT_BYTES) {
    const shot = {
      owner: view.getUint32(at, LITTLE_ENDIAN),
      x: view.getUint16(at + 4, LITTLE_ENDIAN) / POSITION_SCALE,
      y: view.getUint16(at + 6, LITTLE_ENDIAN) / POSITION_SCALE,
    };
    if (shot.owner === 0 || !inArena(shot)) return null;
    shots.push(shot);
  }
  return { tick: view.getUint32(1, LITTLE_ENDIAN), players, shots };
}

function toFixed(value: number, max: number): number {
  return Math.round(Math.min(Math.max(value, 0), max) * POSITION_SCALE);
}

function inArena({ x, y }: { x: number; y: number }): boolean {
  return x <= WORLD_WIDTH && y <= WORLD_HEIGHT;
}
