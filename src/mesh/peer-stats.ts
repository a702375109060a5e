import type { TransferMode } from './multiplayer-constants.js';

/** Why a packet was dropped; each is counted per peer in {@link PeerStats}. */
export type DropReason =
  /** Arrived while the receive queue was full. */
  | 'receiveQueueFull'
  /** Arrived with framing that does not parse; or a state-connection negotiation message refused. */
  | 'malformed'
  /** Unreliable, and older than the channel's lifetime when it arrived. */
  | 'stale'
  /** UnreliableOrdered, and older than a packet already delivered. */
  | 'outOfOrder'
  /** Unreliable, put while the channel's send buffer was over its threshold. */
  | 'sendBufferFull'
  /** Reliable, refused because the peer's send buffer was at its limit. */
  | 'reliableLimit'
  /** Unreliable, put while the peer's keepalive had gone silent. */
  | 'silentPeer'
  /** Put for a peer that had gone when it was sent. */
  | 'peerGone'
  /** Larger, with rtcmesh's framing, than the peer accepts in one message (its `a=max-message-size`). */
  | 'tooLargeForPeer';

/** Every drop reason, for iterating and for zeroed counters. */
export const DROP_REASONS: readonly DropReason[] = [
  'receiveQueueFull',
  'malformed',
  'stale',
  'outOfOrder',
  'sendBufferFull',
  'reliableLimit',
  'silentPeer',
  'peerGone',
  'tooLargeForPeer',
];

/** Traffic of one channel with one peer. */
export interface ChannelStats {
  /** The transfer channel packets on it report (0 for the three defaults). */
  transferChannel: number;
  mode: TransferMode;
  /** Its SCTP stream id. */
  sctpId: number;
  packetsSent: number;
  bytesSent: number;
  packetsReceived: number;
  bytesReceived: number;
  /** Packets on this channel dropped, for any reason, in either direction. */
  packetsDropped: number;
}

/** What rtcmesh knows of one peer: `WebRTCMultiplayerPeer.getPeerStats(id)`. */
export interface PeerStats {
  peerId: number;
  connected: boolean;
  /**
   * The link was lost and the session is held for `reconnectGraceMs`, until a new connection
   * resumes it (`connected` stays true meanwhile).
   */
  reconnecting: boolean;
  /** Smoothed round-trip time from the keepalive, in milliseconds; NaN before the first answer. */
  rttMs: number;
  /** The peer's clock minus ours, in milliseconds; NaN before the first answer. */
  clockOffsetMs: number;
  /** Milliseconds since anything arrived from the peer. */
  silentForMs: number;
  channels: ChannelStats[];
  /** Dropped packets by reason. */
  dropped: Record<DropReason, number>;
  /**
   * Bytes put for the peer and not yet handed to SCTP: in rtcmesh's batches and libdatachannel's
   * queue (the channels' bufferedAmount). SCTP's own send buffer, up to 1 MiB, is not in it.
   */
  bufferedBytes: number;
  /**
   * Reliable bytes (framing included) put for the peer that it has not yet reported receiving:
   * those still in rtcmesh, in the engine's and SCTP's buffers, and on the wire. The peer reports
   * in each keepalive message, so this lags by about `keepaliveIntervalMs` plus a one-way trip.
   * Everything else sent to the peer waits behind what SCTP holds: pace large reliable sends on this.
   */
  undeliveredBytes: number;
  /**
   * With resumption on: reliable bytes (framing included) sent to the peer that it has not yet
   * acknowledged, kept to be resent on a new connection. Bounded, with what is queued, by
   * `reliableBufferLimitBytes` per channel. 0 with resumption off.
   */
  unacknowledgedBytes: number;
  /** SCTP messages sent and received on user channels: fewer than packets when batching. */
  messagesSent: number;
  messagesReceived: number;
}
