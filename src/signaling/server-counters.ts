// What the signaling server counts as it runs, for `GET /metrics`: plain numbers bumped on the
// relay's path, read only when metrics are scraped.
import { MESSAGE_TYPE_COUNT } from './protocol.js';

/** Why a socket ended: the label of `rtcmesh_signaling_closes_total`, a fixed set. */
export type CloseCause =
  /** The client closed it, or the connection dropped. */
  | 'client'
  /** A JOIN refused: unknown, sealed or full lobby, bad name, too many lobbies, a second JOIN. */
  | 'join_refused'
  /** Any other message out of place: a bad destination, a SEAL by a member, a server-only type. */
  | 'protocol_error'
  /** A frame that is not a JSON message, binary, or over maxFrameBytes (ws's own 1007 and 1009 too). */
  | 'bad_frame'
  | 'rate_limit'
  | 'too_many_sockets'
  | 'join_timeout'
  | 'ping_timeout'
  | 'seal_complete'
  | 'host_left'
  /** Its member came back on another socket with its session token. */
  | 'session_resumed'
  | 'shutdown'
  /** A join refused while the cluster's Redis is unreachable (1013). */
  | 'cluster_unavailable'
  /** Its lobby's node, or the node of a remote member, stopped (several nodes on Redis). */
  | 'node_lost'
  | 'internal_error';

/** Every {@link CloseCause}, for zeroed counters. */
export const CLOSE_CAUSES: readonly CloseCause[] = [
  'client',
  'join_refused',
  'protocol_error',
  'bad_frame',
  'rate_limit',
  'too_many_sockets',
  'join_timeout',
  'ping_timeout',
  'seal_complete',
  'host_left',
  'session_resumed',
  'shutdown',
  'cluster_unavailable',
  'node_lost',
  'internal_error',
];

/** Traffic and closes since the server started. */
export class ServerCounters {
  /** Messages received that parsed, by message type. */
  readonly received = new Array<number>(MESSAGE_TYPE_COUNT).fill(0);
  /** OFFER, ANSWER and CANDIDATE messages forwarded, by message type. */
  readonly relayed = new Array<number>(MESSAGE_TYPE_COUNT).fill(0);
  /** Payload bytes of every text frame received and sent. */
  bytesReceived = 0;
  bytesSent = 0;
  /** Messages from other nodes (over Redis) that were malformed or named a socket unknown here. */
  clusterDropped = 0;
  readonly closes = new Map<CloseCause, number>(CLOSE_CAUSES.map((cause) => [cause, 0]));

  countClose(cause: CloseCause): void {
    this.closes.set(cause, (this.closes.get(cause) ?? 0) + 1);
  }
}
