// The demo's result tables: plain text, right-aligned columns, one row a peer.
import type { DropReason } from '../mesh/index.js';
import { CHANNEL_NAMES, type PeerReport } from './demo-report.js';

const COLUMN_GAP = '  ';
const PEER_COLUMNS = ['id', 'join ms', 'mesh ms', 'rtt p50', 'rtt p99'];
const COUNT_COLUMNS = ['sent', 'recv', 'drop'];
const RESUME_COLUMNS = ['resumed', 'resume ms'];
const RTT_DECIMALS = 1;
const MISSING = '-';

/**
 * The demo's table: a header of two lines (the channel names over their columns, then the column
 * names), then a row for each report in the order given: its id, join and full-mesh times, RTT
 * p50 and p99, and packets sent, received and dropped on each channel.
 */
export function formatDemoTable(reports: readonly PeerReport[]): string {
  // Shown on a run where a link was cut: the sessions each peer resumed, and how long the cut one took.
  const resumed = reports.some((report) => report.reconnects > 0 || report.resumeMs !== null);
  const header = [...PEER_COLUMNS, ...CHANNEL_NAMES.flatMap(() => COUNT_COLUMNS), ...(resumed ? RESUME_COLUMNS : [])];
  const rows = reports.map((report) => [
    String(report.id),
    formatMs(report.joinMs, 0),
    formatMs(report.meshMs, 0),
    formatMs(report.rttP50Ms, RTT_DECIMALS),
    formatMs(report.rttP99Ms, RTT_DECIMALS),
    ...CHANNEL_NAMES.flatMap((name) => {
      const counts = report.channels[name];
      return [counts.sent, counts.received, counts.dropped].map(String);
    }),
    ...(resumed ? [String(report.reconnects), formatMs(report.resumeMs, 0)] : []),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const groups = groupLine(widths);
  return [groups, joinCells(header, widths), ...rows.map((row) => joinCells(row, widths))].join('\n');
}

/** Drop reasons a conditioned link causes, always shown; any other appears when some peer has one. */
const LINK_DROP_REASONS: readonly DropReason[] = ['stale', 'outOfOrder'];
const LINK_COLUMNS = ['id', 'mesh ms', 'rtt p50', 'sent', 'lost', 'lost %', 'over bw', 'dup', 'reord'];
const PERCENT_DECIMALS = 1;

/**
 * The table of a conditioned run: a row per report with its id, time to connect and RTT p50,
 * what its conditioner did to the UDP datagrams it sent (sent, lost and the share lost, dropped
 * by the bandwidth cap, duplicated, held back to reorder), then what rtcmesh dropped on arrival
 * or on sending, by reason: stale and out-of-order always, any other reason some row has.
 */
export function formatLinkTable(reports: readonly PeerReport[]): string {
  const reasons = Object.keys(reports[0]?.dropped ?? {}).filter(
    (reason) => LINK_DROP_REASONS.includes(reason as DropReason) || reports.some((report) => report.dropped[reason as DropReason] > 0),
  ) as DropReason[];
  const header = [...LINK_COLUMNS, ...reasons];
  const rows = reports.map((report) => {
    const link = report.link;
    const linkCells = link
      ? [link.sent, link.lost, formatMs(link.sent === 0 ? null : (100 * link.lost) / link.sent, PERCENT_DECIMALS), link.overBandwidth, link.duplicated, link.reordered]
      : Array(6).fill(MISSING);
    return [
      String(report.id),
      formatMs(report.meshMs, 0),
      formatMs(report.rttP50Ms, RTT_DECIMALS),
      ...linkCells.map(String),
      ...reasons.map((reason) => String(report.dropped[reason])),
    ];
  });
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  return [joinCells(header, widths), ...rows.map((row) => joinCells(row, widths))].join('\n');
}

function formatMs(value: number | null, decimals: number): string {
  return value === null ? MISSING : value.toFixed(decimals);
}

function joinCells(cells: readonly string[], widths: readonly number[]): string {
  return cells.map((cell, column) => cell.padStart(widths[column]!)).join(COLUMN_GAP);
}

/** The channel names, each centred over its three count columns. */
function groupLine(widths: readonly number[]): string {
  const peerWidth = widths.slice(0, PEER_COLUMNS.length).reduce((sum, width) => sum + width + COLUMN_GAP.length, 0);
  const spans = CHANNEL_NAMES.map((name, channel) => {
    const first = PEER_COLUMNS.length + channel * COUNT_COLUMNS.length;
    const span = widths.slice(first, first + COUNT_COLUMNS.length);
    const width = span.reduce((sum, columnWidth) => sum + columnWidth, 0) + COLUMN_GAP.length * (span.length - 1);
    const left = Math.floor((width - name.length) / 2);
    return name.padStart(left + name.length).padEnd(width);
  });
  return (' '.repeat(peerWidth) + spans.join(COLUMN_GAP)).trimEnd();
}
