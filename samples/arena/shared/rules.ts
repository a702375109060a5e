// The rules of the arena, in one place: the server simulates with them, the bot plays by them
// and the browser draws with them. Distances are in world units (one unit is one canvas pixel),
// times in ticks of the simulation.

/** Simulation steps per second, on the server; the bots and the browser poll at the same rate. */
export const TICK_HZ = 60;
/** The length of one tick, in milliseconds. */
export const TICK_MS = 1000 / TICK_HZ;

/** The arena's width, in world units. */
export const WORLD_WIDTH = 800;
/** The arena's height, in world units. */
export const WORLD_HEIGHT = 600;

/** Players in one arena at most; the signaling server refuses the next joiner. */
export const MAX_PLAYERS = 16;
/** A player's radius: a shot closer than this plus its own radius hits. */
export const PLAYER_RADIUS = 14;
/** How far a player moves in one tick at full input. */
export const PLAYER_SPEED = 200 / TICK_HZ;

/** A shot's radius. */
export const SHOT_RADIUS = 4;
/** How far a shot travels in one tick. */
export const SHOT_SPEED = 520 / TICK_HZ;
/** Ticks a shot flies before it vanishes: a second, so a shot crosses most of the arena. */
export const SHOT_LIFETIME_TICKS = TICK_HZ;
/** Ticks between two shots of one player, while fire is held. */
export const FIRE_COOLDOWN_TICKS = 15;
/** Shots in flight at most: each player at its fastest fire rate fills its share. */
export const MAX_SHOTS = MAX_PLAYERS * Math.ceil(SHOT_LIFETIME_TICKS / FIRE_COOLDOWN_TICKS);
