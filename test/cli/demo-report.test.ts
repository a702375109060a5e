import { describe, expect, it } from 'vitest';
import { DROP_REASONS, type DropReason } from '../../src/index.js';
import { type PeerReport, encodePeerMessage, parsePeerMessage, summarizeRtt } from '../../src/cli/demo-report.js';
import { median, percentile } from '../../src/cli/statistics.js';

const REPORT: PeerReport = {
  id: 5,
  joinMs: 20,
  meshMs: 300,
  rttSamples: 2,
  rttP50Ms: 16,
  rttP99Ms: null,
  channels: {
    reliable: { sent: 3, received: 3, dropped: 0 },
    ordered: { sent: 2, received: 2, dropped: 0 },
    unreliable: { sent: 1, received: 1, dropped: 0 },
  },
  dropped: Object.fromEntries(DROP_REASONS.map((reason) => [reason, reason === 'stale' ? 2 : 0])) as Record<DropReason, number>,
  link: null,
  reconnects: 0,
  resumeMs: null,
};

describe('demo peer messages', () => {
  it.each([
    { event: 'joined', id: 1, lobby: 'AbC123' },
    { event: 'meshed' },
    { event: 'result', report: REPORT },
    { event: 'failed', reason: 'the connection to peer 2 failed before it opened' },
    { event: 'result', report: { ...REPORT, link: { sent: 100, lost: 10, overBandwidth: 0, duplicated: 2, reordered: 5 } } },
  ] as const)('reads back what was written: $event', (message) => {
    expect(parsePeerMessage(encodePeerMessage(message))).toEqual(message);
  });

  it.each([
    'listening on ws://127.0.0.1:1',
    '{"event":"joined","id":1,"lobby":""}',
    '{"event":"joined","id":-1,"lobby":"x"}',
    '{"event":"result","report":{"id":1}}',
    `{"event":"result","report":${JSON.stringify({ ...REPORT, channels: { ...REPORT.channels, ordered: { sent: 'many' } } })}}`,
    `{"event":"result","report":${JSON.stringify({ ...REPORT, dropped: { stale: 1 } })}}`,
    `{"event":"result","report":${JSON.stringify({ ...REPORT, link: { sent: 1 } })}}`,
    '{"event":"failed"}',
    '{"event":"other"}',
    '[1,2]',
    'null',
  ])('ignores a line that is not a message: %s', (line) => {
    expect(parsePeerMessage(line)).toBeNull();
  });
});

describe('round-trip summary', () => {
  it('takes the nearest-rank p50 and p99 of the samples, in any order', () => {
    const samples = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(summarizeRtt(samples)).toEqual({ rttSamples: 100, rttP50Ms: 50, rttP99Ms: 99 });
  });

  it('has no percentiles without samples', () => {
    expect(summarizeRtt([])).toEqual({ rttSamples: 0, rttP50Ms: null, rttP99Ms: null });
  });

  it('gives the single sample for every percentile', () => {
    expect(percentile([7], 1)).toBe(7);
    expect(percentile([7], 99)).toBe(7);
  });

  it('takes the median of an odd count as the middle, of an even one as the mean of the two middles, NaN of none', () => {
    expect([median([3, 1, 2]), median([4, 1, 3, 2]), median([])]).toEqual([2, 2.5, Number.NaN]);
    expect(percentile([], 50)).toBeNaN();
  });
});
