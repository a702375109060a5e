// The demo's result table: plain text, right-aligned columns, one row a peer.
import { CHANNEL_NAMES, type PeerReport } from './demo-report.js';

const COLUMN_GAP = '  ';
const PEER_COLUMNS = ['id', 'join ms', 'mesh ms', 'rtt p50', 'rtt p99'];
const COUNT_COLUMNS = ['sent', 'recv', 'drop'];
const RTT_DECIMALS = 1;
const MISSING = '-';

/**
 * The demo's table: a header of two lines (the channel names over their columns, then the column
 * names), then a row for each report in the order given: its id, join and full-mesh times, RTT
 * p50 and p99, and packets sent, received and dropped on each channel.
 */
export function formatDemoTable(reports: readonly PeerReport[]): string {
  const header = [...PEER_COLUMNS, ...CHANNEL_NAMES.flatMap(() => COUNT_COLUMNS)];
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
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const groups = groupLine(widths);
  return [groups, joinCells(header, widths), ...rows.map((row) => joinCells(row, widths))].join('\n');
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
