import { describe, expect, it } from 'vitest';
import { NETWORK_CLOCK_SLEW, NETWORK_CLOCK_STEP_MS, NetworkClock } from '../../src/multiplayer/network-clock.js';
import { closeAfterEach } from '../support/close-after-each.js';
import { makeApiGroup } from '../support/rpc.js';

/** A clock whose local time the test moves. */
function clockAt(start: number): { clock: NetworkClock; advance(ms: number): void } {
  let local = start;
  return { clock: new NetworkClock(() => local), advance: (ms) => (local += ms) };
}

describe('NetworkClock (rules, on an injected clock)', () => {
  it('is the local clock until the first estimate, which it then takes as it is', () => {
    const { clock, advance } = clockAt(1000);
    clock.update(Number.NaN);
    expect(clock.isSynchronized()).toBe(false);
    expect(clock.read()).toBe(1000);
    advance(10);
    clock.update(500);
    expect(clock.isSynchronized()).toBe(true);
    expect(clock.read()).toBe(1510);
  });

  it('slews a small correction at its rate, and steps a large one forward', () => {
    const { clock, advance } = clockAt(0);
    clock.update(0);
    advance(100);
    clock.update(20);
    expect(clock.read()).toBeCloseTo(100 + 100 * NETWORK_CLOCK_SLEW);
    advance(1000);
    clock.update(20);
    expect(clock.read()).toBeCloseTo(1120);
    advance(10);
    clock.update(20 + NETWORK_CLOCK_STEP_MS + 50);
    expect(clock.read()).toBeCloseTo(1130 + NETWORK_CLOCK_STEP_MS + 50);
  });

  it('never runs backwards: a large backward correction is slewed, and a reset keeps the time read', () => {
    const { clock, advance } = clockAt(0);
    clock.update(1000);
    const before = clock.read();
    let last = before;
    for (let step = 0; step < 100; step++) {
      advance(10);
      clock.update(0);
      const now = clock.read();
      expect(now).toBeGreaterThanOrEqual(last);
      last = now;
    }
    expect(last).toBeCloseTo(before + 1000 - 1000 * NETWORK_CLOCK_SLEW);
    clock.reset();
    clock.update(-5000);
    expect(clock.read()).toBe(last);
  });
});

const track = closeAfterEach();

describe('MultiplayerAPI.getNetworkTime on real connections', () => {
  it('agrees across a mesh (the lowest id is the reference) and a server topology', async () => {
    for (const topology of ['mesh', 'server'] as const) {
      const g = track(await makeApiGroup(3, { topology }));
      await g.pollUntil(() => g.apis.every((api) => api.getPeers().filter((id) => api.getPeerStats(id).via === id).every((id) => !Number.isNaN(g.group.byId(api.getUniqueId()).peer.getPeerStats(id).clockOffsetMs))), 'clock estimates');
      await g.pollUntil(() => true, 'one more poll');
      // Every peer runs in this process, on one clock: the network time is that clock, give or
      // take the estimate, which a sample's asymmetry can skew by up to half its round trip.
      const direct = (api: (typeof g.apis)[number]): number[] => api.getPeers().filter((id) => api.getPeerStats(id).via === id);
      const slowest = Math.max(...g.apis.flatMap((api) => direct(api).map((id) => g.group.byId(api.getUniqueId()).peer.getPeerStats(id).rttMs)));
      const times = g.apis.map((api) => api.getNetworkTime());
      expect(Math.max(...times) - Math.min(...times)).toBeLessThan(Math.max(20, slowest));
      const previous = g.api(2).getNetworkTime();
      expect(g.api(2).getNetworkTime()).toBeGreaterThanOrEqual(previous);
      g.close();
    }
  });
});
