import { type DataChannelOptions, RtcError } from '../transport/index.js';
import { type OptionSpecs, integerRule, resolveOptions } from '../transport/option-resolver.js';
import { TransferMode } from './multiplayer-constants.js';

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
  /** Sent before every channel of a lower priority, this side only (rtcmesh lanes). */
  priority: number;
  /** Its share of what the channels of its priority may send, against their weights. */
  weight: number;
}

/**
 * An extra channel of a channels config: Godot's TransferMode, or (rtcmesh) the mode with the
 * channel's priority and weight in this side's sending.
 */
export type ChannelConfig = TransferMode | LaneConfig;

/** rtcmesh's form of a channels config entry. */
export interface LaneConfig {
  mode: TransferMode;
  /** Channels of a higher priority are sent first, whatever waits on lower ones. Default {@link DEFAULT_PRIORITY}. */
  priority?: number;
  /** Among channels of one priority, each sends in proportion to its weight. Default {@link DEFAULT_WEIGHT}. */
  weight?: number;
}

/** The priority of the three default channels and of an entry that gives none. */
export const DEFAULT_PRIORITY = 0;
export const DEFAULT_WEIGHT = 1;
/** Bounds of a lane's settings: wide enough for any game's ranking, narrow enough to stay integers. */
export const MAX_PRIORITY_MAGNITUDE = 1000;
export const MAX_WEIGHT = 1000;

const DEFAULT_LANE = { priority: DEFAULT_PRIORITY, weight: DEFAULT_WEIGHT };
const DEFAULT_CHANNELS: ChannelSpec[] = [
  { sctpId: RELIABLE_CHANNEL_ID, transferChannel: 0, mode: TransferMode.Reliable, label: 'reliable', ...DEFAULT_LANE },
  { sctpId: UNRELIABLE_ORDERED_CHANNEL_ID, transferChannel: 0, mode: TransferMode.UnreliableOrdered, label: 'ordered', ...DEFAULT_LANE },
  { sctpId: UNRELIABLE_CHANNEL_ID, transferChannel: 0, mode: TransferMode.Unreliable, label: 'unreliable', ...DEFAULT_LANE },
];

function isTransferMode(mode: unknown): mode is TransferMode {
  return mode === TransferMode.Reliable || mode === TransferMode.Unreliable || mode === TransferMode.UnreliableOrdered;
}

const LANE_SPECS: OptionSpecs<Omit<Required<LaneConfig>, 'mode'>> = {
  priority: { default: DEFAULT_PRIORITY, rule: integerRule(-MAX_PRIORITY_MAGNITUDE, MAX_PRIORITY_MAGNITUDE) },
  weight: { default: DEFAULT_WEIGHT, rule: integerRule(1, MAX_WEIGHT) },
};

/** An entry resolved; throws RtcError ERR_INVALID_PARAMETER saying what a valid entry is. */
function resolveEntry(entry: ChannelConfig, n: number): Required<LaneConfig> {
  if (isTransferMode(entry)) return { mode: entry, ...DEFAULT_LANE };
  if (entry === null || typeof entry !== 'object' || !isTransferMode(entry.mode)) {
    throw new RtcError('ERR_INVALID_PARAMETER', `channelsConfig[${n}] is a TransferMode or { mode: TransferMode, priority?, weight? }.`);
  }
  return { mode: entry.mode, ...resolveOptions(`channelsConfig[${n}]`, LANE_SPECS, entry) };
}

/**
 * The user channels for a channels config: the three defaults, then one per extra entry. Only
 * the modes are negotiated: both sides need the same modes, each may rank its own sending.
 * @throws RtcError ERR_INVALID_PARAMETER for an entry that is neither form.
 */
export function channelLayout(entries: readonly ChannelConfig[]): ChannelSpec[] {
  return [
    ...DEFAULT_CHANNELS,
    ...entries.map((entry, n) => ({
      sctpId: n + 1 + EXTRA_CHANNEL_OFFSET,
      transferChannel: n + 1,
      label: `channel-${n + 1}`,
      ...resolveEntry(entry, n),
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
