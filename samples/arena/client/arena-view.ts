// What the browser client shows, as data: `window.arena`, for tests and for poking at from the
// console. Updated every frame; nothing reads it back.

/** A player as the last frame drew it. */
export interface DrawnPlayer {
  id: number;
  x: number;
  y: number;
  score: number;
}

/** The client's state, published on `window.arena`. */
export interface ArenaView {
  /** Joining the lobby and connecting; in the game; or out of it (the reason is in the overlay). */
  phase: 'connecting' | 'playing' | 'disconnected';
  /** This page's peer id; 0 until the signaling server gives one. */
  id: number;
  /** Every player id spawned here, this page's own included. */
  seenPlayerIds: number[];
  /** The players of the last frame drawn, at the positions drawn (interpolated). */
  players: DrawnPlayer[];
  /** `performance.now()` when the newest state of a player arrived; 0 before the first. */
  lastSnapshotAt: number;
  /** Player states received (one per player per snapshot). */
  snapshots: number;
  /** Round-trip time to the server in milliseconds, from `getPeerStats(1)`; null before the first measurement. */
  rttMs: number | null;
  /** Packets from or to the server that rtcmesh dropped (lost, stale, out of order, ...), from `getPeerStats(1)`. */
  packetsDropped: number;
}

declare global {
  interface Window {
    /** The arena client's state: see {@link ArenaView}. */
    arena: ArenaView;
  }
}
