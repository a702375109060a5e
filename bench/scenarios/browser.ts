/**
 * browser: the user-loop cases in headless Chromium, one page, two peers over loopback: rtcmesh's
 * browser entry driven as a user drives it (each peer a loop of its own: poll(), read every packet,
 * put, flush(), backpressure read before every packet) beside the page's own RTCDataChannels doing
 * the same traffic. Skipped, with the reason, where Chromium is missing, and under --quick.
 */
import type { Flow } from '../flow-counter.js';
import { type Scenario, pick } from '../harness.js';
import { type Row, type Target, atMost, ratioAtLeast, ratioAtMost } from '../results.js';
import { CHROMIUM_MISSING } from '../browser/chromium.js';
import type { RoundTrips, Setups } from '../user-loop/case-types.js';
import { type BrowserCase, runInBrowserChild } from '../browser/child.js';

const KIB = 1024;

interface FlowMeasure {
  label: string;
  size: number;
  reliable: boolean;
  key: keyof Flow;
  target: Target;
}

const FLOWS: readonly FlowMeasure[] = [
  { label: 'reliable 64 B, msg/s', size: 64, reliable: true, key: 'msgPerS', target: ratioAtLeast(5) },
  { label: 'unreliable 64 B sent, msg/s', size: 64, reliable: false, key: 'sentPerS', target: ratioAtLeast(5) },
  { label: 'reliable 16 KiB, MB/s', size: 16 * KIB, reliable: true, key: 'mbPerS', target: ratioAtLeast(1) },
];
const PING_PONG = 'ping-pong 64 B';

const SETUPS = 100;
const SETUP_LABEL = `${SETUPS} warm setups`;

const CASES: readonly BrowserCase[] = [
  ...FLOWS.map(({ label, size, reliable }): BrowserCase => ({ label, test: { kind: 'flow', size, reliable, warmupMs: 500, durationMs: 3000 } })),
  { label: PING_PONG, test: { kind: 'ping-pong', warmupMs: 300, durationMs: 3000 } },
  { label: SETUP_LABEL, test: { kind: 'setup', setups: SETUPS } },
];

/** rtcmesh's browser entry in Chromium, driven as a user drives it, beside the page's own RTCDataChannel. */
export const browser: Scenario = {
  name: 'browser',
  async run(context) {
    if (CHROMIUM_MISSING !== null) {
      context.log(`browser: skipped, no figures: ${CHROMIUM_MISSING}`);
      return [];
    }
    if (context.quick) {
      // Starting Chromium and its first page alone takes seconds (10 to 20 on a loaded 2-core machine).
      context.log('browser: skipped under --quick, no figures (Chromium takes seconds to start): run it with --only browser');
      return [];
    }
    const results = await runInBrowserChild(context, [...CASES]);
    const row = <T>(label: string, metric: string, key: keyof T, target?: Target): Row => ({
      scenario: this.name,
      metric,
      raw: pick(results[label]!.raw as T[], key),
      rtcmesh: pick(results[label]!.rtcmesh as T[], key),
      ...(target ? { target } : {}),
    });
    return [
      ...FLOWS.flatMap(({ label, key, reliable, target }) => [
        row<Flow>(label, label, key, target),
        ...(reliable ? [] : [row<Flow>(label, 'unreliable 64 B delivery ratio, %', 'deliveryPct')]),
      ]),
      row<RoundTrips>(PING_PONG, 'ping-pong 64 B p50, µs', 'p50Us'),
      row<RoundTrips>(PING_PONG, 'ping-pong 64 B p99, µs', 'p99Us', ratioAtMost(1.5)),
      row<Setups>(SETUP_LABEL, `warm setup p50 of ${SETUPS}, ms`, 'p50Ms'),
      row<Setups>(SETUP_LABEL, `warm setup p90 of ${SETUPS}, ms`, 'p90Ms', ratioAtMost(1.2)),
      row<Setups>(SETUP_LABEL, `warm setup slowest of ${SETUPS}, ms`, 'maxMs', atMost(500, 'ms')),
      row<Setups>(SETUP_LABEL, `setups over 500 ms, of ${SETUPS}`, 'stalls'),
      row<Setups>(SETUP_LABEL, `setups failed, of ${SETUPS}`, 'failed'),
    ];
  },
};
