import { DROP_REASONS as CODEC_DROP_REASONS } from './codec.js';
import type { RpcNode } from './rpc-node.js';

/** Why the RPC layer dropped a packet from a peer: the codec's reasons, then the API's own. */
export const RPC_DROP_REASONS = [
  ...CODEC_DROP_REASONS,
  /** A CALL for a path id the peer never announced, or one this side refused. */
  'unknownPath',
  /** A CALL for a method id the path does not have. */
  'unknownMethod',
  /** A CALL with more arguments than the method declares. */
  'argumentCount',
  /** A call to an `authority` method from anyone but the path's authority. */
  'notAuthority',
  /** A RELAY where the topology has none, or from anyone but the server. */
  'badRelay',
  /** A call this side did not send because the peer refused its path (unknown there, or other methods). */
  'pathRefused',
  /** An ANNOUNCE_PATH past the number of paths one peer may announce. */
  'tooManyPaths',
  /** An ANNOUNCE_PATH giving a path id, already confirmed, another path or method table. */
  'pathConflict',
] as const;

/** One of {@link RPC_DROP_REASONS}. */
export type RpcDropReason = (typeof RPC_DROP_REASONS)[number];

/** What announcing a path to a peer has come to. */
export type AnnounceState = 'announced' | 'confirmed' | 'refused';

/** The RPC layer's state with one connected peer. */
export class PeerRpcState {
  /** Paths this side announced to the peer, by local path id. */
  readonly sent = new Map<number, AnnounceState>();
  /** Paths the peer announced, by its path id: the node, or null when refused. */
  readonly received = new Map<number, RpcNode<object, string> | null>();
  /** Lanes (path, channel, mode) on which a path was announced, while it is not yet confirmed. */
  readonly announcedOn = new Set<number>();
  /** Calls to authority methods the peer made without being the authority. */
  violations = 0;
  readonly dropped = Object.fromEntries(RPC_DROP_REASONS.map((reason) => [reason, 0])) as Record<RpcDropReason, number>;
}
