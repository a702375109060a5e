import type { DataChannelOptions } from '../transport/index.js';
import { TransferMode } from './transfer.js';

/** SCTP id of rtcmesh's own channel: keepalives, round-trip time, clock offset. */
export const SYSTEM_CHANNEL_ID = 0;
/** SCTP ids of the three default channels, by Godot's layout. */
export const RELIABLE_CHANNEL_ID = 1;
export const UNRELIABLE_ORDERED_CHANNEL_ID = 2;
export const UNRELIABLE_CHANNEL_ID = 3;
/** Transfer channel N >= 1 travels on SCTP id N + EXTRA_CHANNEL_OFFSET. */
export const EXTRA_CHANNEL_OFFSET = 3;

/** One negotiated channel of the layout. */
export interface ChannelSpec {
  /** SCTP stream id, the same on both sides. */
  sctpId: number;
  /** The transfer channel a packet on it reports: 0 for the defaults, N for extra channel N. */
  transferChannel: number;
  mode: TransferMode;
  label: string;
}

const DEFAULT_CHANNELS: ChannelSpec[] = [
  { sctpId: RELIABLE_CHANNEL_ID, transferChannel: 0, mode: TransferMode.Reliable, label: 'reliable' },
  { sctpId: UNRELIABLE_ORDERED_CHANNEL_ID, transferChannel: 0, mode: TransferMode.UnreliableOrdered, label: 'ordered' },
  { sctpId: UNRELIABLE_CHANNEL_ID, transferChannel: 0, mode: TransferMode.Unreliable, label: 'unreliable' },
];

/** The user channels for a channels config: the three defaults, then one per extra mode. */
export function channelLayout(extraModes: readonly TransferMode[]): ChannelSpec[] {
  return [
    ...DEFAULT_CHANNELS,
    ...extraModes.map((mode, n) => ({
      sctpId: n + 1 + EXTRA_CHANNEL_OFFSET,
      transferChannel: n + 1,
      mode,
      label: `channel-${n + 1}`,
    })),
  ];
}

/**
 * The SCTP options of a channel. Unreliable channels never retransmit (Godot's option typo leaves
 * its own reliable), and UnreliableOrdered runs unordered: SCTP's ordered delivery would hold
 * packets behind each loss, so rtcmesh orders with its own sequence numbers instead.
 */
export function channelOptions(sctpId: number, mode: TransferMode): DataChannelOptions {
  if (mode === TransferMode.Reliable) return { negotiated: true, id: sctpId, ordered: true };
  return { negotiated: true, id: sctpId, ordered: false, maxRetransmits: 0 };
}

/** The system channel's options: unreliable, so a keepalive is never stuck behind a lost one. */
export const SYSTEM_CHANNEL_OPTIONS: DataChannelOptions = channelOptions(SYSTEM_CHANNEL_ID, TransferMode.Unreliable);

/** Index into a layout for a packet put with this transfer channel and mode. */
export function layoutIndex(transferChannel: number, mode: TransferMode): number {
  if (transferChannel > 0) return transferChannel + EXTRA_CHANNEL_OFFSET - 1;
  return mode === TransferMode.Reliable ? 0 : mode === TransferMode.UnreliableOrdered ? 1 : 2;
}
