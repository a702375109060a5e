import { afterAll, describe, expect, it } from 'vitest';
import { TransferMode, cleanup } from '../../src/index.js';
import { clockMs } from '../../src/mesh/clock.js';
import { connectThroughProxy } from '../support/proxied-mesh.js';

afterAll(() => cleanup());

/** What the process may grow by while a sender outpaces the link: rtcmesh's 8 MiB reliable limit, the engine's buffers, slack. */
const MEMORY_BOUND_BYTES = 96 * 1024 * 1024;
const RUN_MS = 10_000;
const TICK_MS = 1000 / 60;
/**
 * The state's lifetime: over the hundreds of milliseconds a loaded machine's late polls add to a
 * packet's age, far under the minutes state would wait behind the backlog on the main connection.
 */
const STATE_LIFETIME_MS = 1000;

describe('a sender that outpaces a slow link for 10 s', () => {
  it('keeps both peers (one process here) within a memory bound; with a state connection, state keeps arriving', async () => {
    const mesh = await connectThroughProxy({ conditioner: { seed: 31 }, meshOptions: { stateConnection: true }, unreliableLifetime: STATE_LIFETIME_MS });
    try {
      // A slow, lossy link: SCTP gets tens of kilobytes a second through it.
      mesh.conditioner.setConditions('both', { loss: 0.1, delayMs: 40, jitterMs: 20 });
      (globalThis as { gc?: () => void }).gc?.();
      const baseline = process.memoryUsage().rss;
      let peak = baseline;
      const start = clockMs();
      let refused = 0;
      let ticks = 0;
      let statesPut = 0;
      const event = new Uint8Array(1024);
      await mesh.pollUntil(() => {
        const elapsed = clockMs() - start;
        // Each turn: 64 KiB of reliable events (megabytes a second); at 60 Hz, a state packet.
        for (let n = 0; n < 64; n++) if (!mesh.a.putPacket(event)) refused++;
        if (elapsed >= ticks * TICK_MS) {
          ticks++;
          mesh.a.transferMode = TransferMode.Unreliable;
          const state = new Uint8Array(16);
          new DataView(state.buffer).setFloat64(0, clockMs());
          if (mesh.a.putPacket(state)) statesPut++;
          mesh.a.transferMode = TransferMode.Reliable;
        }
        while (mesh.b.getPacket()) continue;
        peak = Math.max(peak, process.memoryUsage().rss);
        return elapsed > RUN_MS;
      }, 'the run', RUN_MS + 10_000);
      expect(refused).toBeGreaterThan(0);
      expect(mesh.a.getPeerStats(1).dropped.reliableLimit).toBe(refused);
      expect(peak - baseline).toBeLessThan(MEMORY_BOUND_BYTES);
      // The receiver kept polling and hearing: reliable data flowed and keepalives kept the peer.
      const received = mesh.b.getPeerStats(2);
      expect(received.channels[0]!.packetsReceived).toBeGreaterThan(50);
      // On the state connection, state is not stuck behind the backlog: most of it arrives within
      // its lifetime (on the main connection alone, none did). How fresh it stays is a figure for
      // docs/reliability.md.
      expect(received.channels[2]!.packetsReceived).toBeGreaterThan(statesPut / 2);
      expect(mesh.disconnected).toEqual({ a: [], b: [] });
    } finally {
      await mesh.close();
    }
  }, 40_000);
});
