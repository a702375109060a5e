// What a demo peer process tells the demo command: one JSON object a line on its stdout. Both
// sides of that pipe live here, so that they cannot drift apart.
import { DROP_REASONS, type DropReason } from '../mesh/index.js';
import { percentile } from './statistics.js';

/** The three default channels of a WebRTCMultiplayerPeer, in Godot's order (SCTP ids 1, 2, 3). */
export const CHANNEL_NAMES = ['reliable', 'ordered', 'unreliable'] as const;

/** One of {@link CHANNEL_NAMES}. */
export type ChannelName = (typeof CHANNEL_NAMES)[number];

/** Packet counts of one channel, summed over every remote peer, from `getPeerStats`. */
export interface ChannelCounts {
  sent: number;
  received: number;
  dropped: number;
}

/** A demo peer's results. Times are milliseconds from the moment the peer began to connect. */
export interface PeerReport {
  /** The peer's id in the lobby (1 for the host). */
  id: number;
  /** Until the lobby confirmed the join. */
  joinMs: number;
  /** Until every peer the topology gives it had connected. */
  meshMs: number;
  /** Application round trips measured (a ping echoed by each receiver). */
  rttSamples: number;
  /** Median round trip, or null without samples. */
  rttP50Ms: number | null;
  /** 99th percentile round trip, or null without samples. */
  rttP99Ms: number | null;
  channels: Record<ChannelName, ChannelCounts>;
  /** Packets rtcmesh dropped, by reason, summed over every remote peer. */
  dropped: Record<DropReason, number>;
  /** What the conditioner did to the datagrams this peer sent, or null on an unconditioned run. */
  link: LinkReport | null;
  /** Sessions resumed on a new connection after a lost link (`peerReconnected`), over every remote peer. */
  reconnects: number;
  /** On the peer whose link the demo cut: from the end of the cut until every peer had resumed; else null. */
  resumeMs: number | null;
}

/** What a peer's network conditioner did to the UDP datagrams it sent (its outgoing direction). */
export interface LinkReport {
  /** Datagrams the peer's engine sent. */
  sent: number;
  /** Lost by the loss setting. */
  lost: number;
  /** Dropped by the bandwidth cap's full queue. */
  overBandwidth: number;
  duplicated: number;
  reordered: number;
}

/**
 * A line from a demo peer, in the order they come: it joined the lobby (with its id, and the
 * lobby's name for the peers still to start), it connected to every peer it should, its results;
 * or, at any point, why it failed.
 */
export type PeerMessage =
  | { event: 'joined'; id: number; lobby: string }
  | { event: 'meshed' }
  | { event: 'result'; report: PeerReport }
  | { event: 'failed'; reason: string };

/** The line that carries `message` (without its newline). */
export function encodePeerMessage(message: PeerMessage): string {
  return JSON.stringify(message);
}

/** The message a line carries, or null when it is not one (a stray log line, a truncated write). */
export function parsePeerMessage(line: string): PeerMessage | null {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return null;
  }
  if (!isRecord(value)) return null;
  switch (value['event']) {
    case 'joined':
      return isCount(value['id']) && typeof value['lobby'] === 'string' && value['lobby'] !== ''
        ? { event: 'joined', id: value['id'], lobby: value['lobby'] }
        : null;
    case 'meshed':
      return { event: 'meshed' };
    case 'result':
      return isPeerReport(value['report']) ? { event: 'result', report: value['report'] } : null;
    case 'failed':
      return typeof value['reason'] === 'string' ? { event: 'failed', reason: value['reason'] } : null;
    default:
      return null;
  }
}

/** `samples` summarized as a report's RTT fields: the count and the nearest-rank p50 and p99. */
export function summarizeRtt(samples: readonly number[]): Pick<PeerReport, 'rttSamples' | 'rttP50Ms' | 'rttP99Ms'> {
  // null, not NaN, without samples: the report travels as JSON.
  const at = (p: number): number | null => (samples.length === 0 ? null : percentile(samples, p));
  return { rttSamples: samples.length, rttP50Ms: at(50), rttP99Ms: at(99) };
}

function isPeerReport(value: unknown): value is PeerReport {
  if (!isRecord(value) || !isRecord(value['channels'])) return false;
  const channels = value['channels'];
  return (
    isCount(value['id']) &&
    isCount(value['joinMs']) &&
    isCount(value['meshMs']) &&
    isCount(value['rttSamples']) &&
    (value['rttP50Ms'] === null || isCount(value['rttP50Ms'])) &&
    (value['rttP99Ms'] === null || isCount(value['rttP99Ms'])) &&
    CHANNEL_NAMES.every((name) => isChannelCounts(channels[name])) &&
    isRecord(value['dropped']) &&
    DROP_REASONS.every((reason) => isCount((value['dropped'] as Record<string, unknown>)[reason])) &&
    (value['link'] === null || isLinkReport(value['link'])) &&
    isCount(value['reconnects']) &&
    (value['resumeMs'] === null || isCount(value['resumeMs']))
  );
}

function isLinkReport(value: unknown): value is LinkReport {
  return isRecord(value) && (['sent', 'lost', 'overBandwidth', 'duplicated', 'reordered'] as const).every((key) => isCount(value[key]));
}

function isChannelCounts(value: unknown): value is ChannelCounts {
  return isRecord(value) && isCount(value['sent']) && isCount(value['received']) && isCount(value['dropped']);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}
