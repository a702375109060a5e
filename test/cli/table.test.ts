import { describe, expect, it } from 'vitest';
import type { PeerReport } from '../../src/cli/demo-report.js';
import { formatDemoTable, formatLinkTable } from '../../src/cli/table.js';
import { DROP_REASONS, type DropReason } from '../../src/index.js';

function report(id: number, overrides: Partial<PeerReport> = {}): PeerReport {
  return {
    id,
    joinMs: 12.4,
    meshMs: 250.6,
    rttSamples: 100,
    rttP50Ms: 16.71,
    rttP99Ms: 33.05,
    channels: {
      reliable: { sent: 1000, received: 998, dropped: 0 },
      ordered: { sent: 600, received: 590, dropped: 3 },
      unreliable: { sent: 300, received: 299, dropped: 1 },
    },
    dropped: Object.fromEntries(DROP_REASONS.map((reason) => [reason, 0])) as Record<DropReason, number>,
    link: null,
    reconnects: 0,
    resumeMs: null,
    ...overrides,
  };
}

describe('formatDemoTable', () => {
  it('puts the channel names over the column names, then a row per report in the order given', () => {
    const lines = formatDemoTable([report(1), report(1234567890)]).split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]!.trim().split(/\s+/)).toEqual(['reliable', 'ordered', 'unreliable']);
    expect(lines[1]!.trim().split(/\s+/)).toEqual(
      ['id', 'join', 'ms', 'mesh', 'ms', 'rtt', 'p50', 'rtt', 'p99'].concat(Array(3).fill(['sent', 'recv', 'drop']).flat()),
    );
    expect(lines[2]!.trim().split(/\s+/)).toEqual(['1', '12', '251', '16.7', '33.0', '1000', '998', '0', '600', '590', '3', '300', '299', '1']);
    expect(lines[3]!.trim().split(/\s+/)[0]).toBe('1234567890');
  });

  it('adds the sessions resumed and the time to resume on a run with a cut', () => {
    const lines = formatDemoTable([report(1, { reconnects: 1 }), report(2, { reconnects: 3, resumeMs: 812.4 })]).split('\n');
    expect(lines[1]!.trim().split(/\s+/).slice(-3)).toEqual(['resumed', 'resume', 'ms']);
    expect(lines[2]!.trim().split(/\s+/).slice(-2)).toEqual(['1', '-']);
    expect(lines[3]!.trim().split(/\s+/).slice(-2)).toEqual(['3', '812']);
    expect(formatDemoTable([report(1)]).split('\n')[1]).not.toContain('resumed');
  });

  it('right-aligns every column, so that the header and every row are the same width', () => {
    const lines = formatDemoTable([report(1), report(1234567890, { meshMs: 12_345 })]).split('\n');
    const widths = new Set(lines.slice(1).map((line) => line.length));
    expect(widths.size).toBe(1);
    // The widest id sets the first column: a short one is padded on the left.
    expect(lines[2]!.startsWith(' '.repeat('1234567890'.length - 1) + '1')).toBe(true);
  });

  it('centres each channel name over its own three columns', () => {
    const [groups, header] = formatDemoTable([report(1)]).split('\n') as [string, string];
    for (const name of ['reliable', 'ordered', 'unreliable']) {
      const centre = groups.indexOf(name) + name.length / 2;
      const nth = ['reliable', 'ordered', 'unreliable'].indexOf(name);
      const sentAt = header.split('sent', nth + 1).join('sent').length;
      const dropEnd = header.split('drop', nth + 1).join('drop').length + 'drop'.length;
      expect(centre).toBeGreaterThan(sentAt);
      expect(centre).toBeLessThan(dropEnd);
    }
  });

  it('shows a dash for a round trip never measured', () => {
    const row = formatDemoTable([report(7, { rttSamples: 0, rttP50Ms: null, rttP99Ms: null })]).split('\n')[2]!;
    expect(row.trim().split(/\s+/).slice(3, 5)).toEqual(['-', '-']);
  });

  it('prints just the header for no reports', () => {
    expect(formatDemoTable([]).split('\n')).toHaveLength(2);
  });
});

describe('formatLinkTable', () => {
  it('shows what each conditioner did, stale and outOfOrder drops always, and other reasons only when some row has one', () => {
    const dropped = { ...report(1).dropped, stale: 4, outOfOrder: 7, silentPeer: 2 };
    const link = { sent: 1000, lost: 101, overBandwidth: 3, duplicated: 20, reordered: 50 };
    const lines = formatLinkTable([report(1, { dropped, link }), report(2)]).split('\n');
    expect(lines[0]!.trim().split(/\s{2,}/)).toEqual(['id', 'mesh ms', 'rtt p50', 'sent', 'lost', 'lost %', 'over bw', 'dup', 'reord', 'stale', 'outOfOrder', 'silentPeer']);
    expect(lines[1]!.trim().split(/\s+/)).toEqual(['1', '251', '16.7', '1000', '101', '10.1', '3', '20', '50', '4', '7', '2']);
    expect(lines[2]!.trim().split(/\s+/)).toEqual(['2', '251', '16.7', '-', '-', '-', '-', '-', '-', '0', '0', '0']);
  });
});
