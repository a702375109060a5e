import { DECODE_DROP_REASONS } from './codec.js';
import type { ReceivedPath, SentPath } from './path-cache.js';

/** Why the RPC layer dropped a packet from a peer: the codec's reasons, then the API's own. */
export const RPC_DROP_REASONS = [
  ...DECODE_DROP_REASONS,
  /** A packet for a path id the peer never announced, released, or one this side refused. */
  'unknownPath',
  /** An ENTITY_CALL for an entity that is gone, or whose spawn did not arrive in time. */
  'unknownEntity',
  /** A CALL for a method id the path does not have. */
  'unknownMethod',
  /** A CALL with more arguments than the method declares. */
  'argumentCount',
  /** A call to an `authority` method, a spawn or state, from anyone but the authority. */
  'notAuthority',
  /** A RELAY where the topology has none, or from anyone but the server. */
  'badRelay',
  /** A packet this side did not send because the peer refused its path (unknown there, or other methods). */
  'pathRefused',
  /** An ANNOUNCE_PATH past the number of paths one peer may have announced. */
  'tooManyPaths',
  /** An ANNOUNCE_PATH giving a path id another path or method table. */
  'pathConflict',
  /** Anything but AUTH and AUTH_COMPLETE from a peer still authenticating. */
  'notAuthenticated',
  /** An AUTH or AUTH_COMPLETE from a peer that is not authenticating (done, or no `authCallback` here). */
  'unexpectedAuth',
  /** An AUTH whose data is over `maxAuthBytes`. */
  'authTooLarge',
  /** An AUTH past the `maxAuthPackets` one authentication may take. */
  'authFlood',
  /** A relayed call or bytes naming a sender this client was not told of (PEER_ADD). */
  'unknownSender',
  /** A PEER_ADD or PEER_REMOVE this side cannot take: not a client of a relaying server, or naming itself, a peer known already (add) or unknown (remove), or past the relayed-peer bound. */
  'badPeerNotice',
] as const;

/** One of {@link RPC_DROP_REASONS}. */
export type RpcDropReason = (typeof RPC_DROP_REASONS)[number];

/** The RPC layer's state with one connected peer: its path tables both ways and its drops. */
export class PeerRpcState {
  /** Paths this side announced to the peer, by local path id. */
  readonly sent = new Map<number, SentPath>();
  /** Paths the peer announced, by its path id. */
  readonly received = new Map<number, ReceivedPath>();
  /** Calls to authority methods the peer made without being the authority. */
  violations = 0;
  /** Entity calls from the peer held for a spawn that has not arrived. */
  heldCalls = 0;
  /** When the last `authorityViolation` event about the peer was emitted (the events are rate-limited). */
  lastViolationEventAt = Number.NEGATIVE_INFINITY;
  readonly dropped = Object.fromEntries(RPC_DROP_REASONS.map((reason) => [reason, 0])) as Record<RpcDropReason, number>;
}
