// The arena's RPCs: one path, one method table, one config, registered alike by the server and
// every client (rtcmesh compares a hash of the method names and refuses the path on a mismatch).
// The state of players and shots does not travel as RPCs: see entities.ts.
//
// Bundled into the browser client as well as the Node.js server and bot: 'rtcmesh' is the
// package's browser entry in the first (its `browser` condition), its Node.js entry in the others.
import { type MultiplayerAPI, type RpcConfigMap, type RpcNode, TransferMode } from 'rtcmesh';

/** What a client calls on the server. */
export interface ServerCalls {
  /**
   * The player's controls this tick: a direction (each axis from -1 to 1) and whether fire is
   * held. Sent every tick, as state rather than as an event, so a lost one is replaced by the next.
   */
  input(dx: number, dy: number, fire: boolean): void;
}

/** What the server calls on every client: the events of the game, which must not be lost. */
export interface ClientCalls {
  /** Peer `id` plays in the arena: sent to everyone when it joins, and to a newcomer for each player already there. */
  joined(id: number): void;
  /** Peer `id` left the arena. */
  left(id: number): void;
  /** A shot of `shooter` hit `target`, who respawns elsewhere. */
  hit(shooter: number, target: number): void;
  /** Peer `id` has `points` points now. */
  score(id: number, points: number): void;
}

/** Every method of the arena's path: what the server and the clients register. */
export type ArenaCalls = ServerCalls & ClientCalls;

/** The path both sides register the arena's methods under. */
export const ARENA_PATH = 'arena';

/**
 * How each method travels and who may call it. Events are reliable and callable by the
 * authority only (peer 1, the server); input is the one method clients call. Argument counts are
 * given, not read off the handlers, because they are the wire contract.
 */
export const ARENA_RPC_CONFIG = {
  input: { mode: 'anyPeer', transferMode: TransferMode.UnreliableOrdered, maxArguments: 3 },
  joined: { maxArguments: 1 },
  left: { maxArguments: 1 },
  hit: { maxArguments: 2 },
  score: { maxArguments: 2 },
} as const satisfies Required<RpcConfigMap<ArenaCalls>>;

/** The handle `registerArena` returns: `rpc`/`rpcId` typed by {@link ArenaCalls}. */
export type ArenaNode = RpcNode<ArenaCalls, keyof ArenaCalls>;

// register() builds the method table from every method, so each side registers all of them; a
// side is never called on the methods it leaves out (clients have no authority, and the server
// relays nothing), and these stand in for them.
const NOT_CALLED_HERE: ArenaCalls = {
  input: () => {},
  joined: () => {},
  left: () => {},
  hit: () => {},
  score: () => {},
};

/**
 * Registers the arena's path on `api` with the handlers this side runs (the server: `input`;
 * a client: the events), and returns the typed handle to call the other side with.
 * @throws RtcError ERR_ALREADY_EXISTS when the path is registered already.
 */
export function registerArena(api: MultiplayerAPI, handlers: Partial<ArenaCalls>): ArenaNode {
  return api.register(ARENA_PATH, { ...NOT_CALLED_HERE, ...handlers }, ARENA_RPC_CONFIG);
}
