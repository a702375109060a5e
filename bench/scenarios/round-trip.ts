/**
 * Scenario 3: the round trip of a 64 B ping-pong on a reliable channel, both ends running a loop
 * of one turn after another. Raw echoes inside onMessage; rtcmesh reads after poll(), puts the
 * answer back and flush()es at the end of the turn, as a game loop does at the end of its frame
 * (the poll contract: nothing happens behind the loop).
 */
import { formGroup } from '../broker.js';
import { type Scenario, alternate, pick } from '../harness.js';
import { measureWindow, now } from '../loop.js';
import { RELIABLE, connectRawLink } from '../raw-link.js';
import { ratioAtMost } from '../results.js';
import { percentile } from '../../src/cli/statistics.js';

const PING_BYTES = 64;

/** What one run measured, in microseconds. */
interface RoundTrips {
  p50Us: number;
  p99Us: number;
  perS: number;
}

interface RoundTripSettings {
  warmupMs: number;
  durationMs: number;
}

function summarize(samplesMs: readonly number[], seconds: number): RoundTrips {
  return { p50Us: 1000 * percentile(samplesMs, 50), p99Us: 1000 * percentile(samplesMs, 99), perS: samplesMs.length / seconds };
}

async function rawRoundTrips(settings: RoundTripSettings): Promise<RoundTrips> {
  const link = await connectRawLink([{ id: 1, options: RELIABLE }]);
  try {
    const pinger = link.a.channels[0]!;
    const echoer = link.b.channels[0]!;
    const payload = new Uint8Array(PING_BYTES);
    const samples: number[] = [];
    let measuring = false;
    let stopped = false;
    let sentAt = 0;
    echoer.onMessage((message) => {
      if (typeof message === 'string') echoer.sendMessage(message);
      else echoer.sendMessageBinary(message instanceof ArrayBuffer ? new Uint8Array(message) : message);
    });
    pinger.onMessage(() => {
      const time = now();
      if (measuring) samples.push(time - sentAt);
      if (stopped) return;
      sentAt = time;
      pinger.sendMessageBinary(payload);
    });
    sentAt = now();
    pinger.sendMessageBinary(payload);
    // The loop only turns, as a game loop would: the answers come in through the callbacks.
    const seconds = await measureWindow(settings.warmupMs, settings.durationMs, () => undefined, (on) => {
      measuring = on;
      stopped ||= !on;
    });
    return summarize(samples, seconds);
  } finally {
    await link.close();
  }
}

async function rtcmeshRoundTrips(settings: RoundTripSettings): Promise<RoundTrips> {
  const group = await formGroup(2);
  try {
    const pinger = group.peer(2);
    const echoer = group.peer(1);
    pinger.setTargetPeer(1);
    echoer.setTargetPeer(2);
    const payload = new Uint8Array(PING_BYTES);
    const samples: number[] = [];
    let measuring = false;
    let stopped = false;
    let sentAt = now();
    pinger.putPacket(payload);
    const seconds = await measureWindow(
      settings.warmupMs,
      settings.durationMs,
      () => {
        pinger.poll();
        for (let packet = pinger.getPacket(); packet !== null; packet = pinger.getPacket()) {
          const time = now();
          if (measuring) samples.push(time - sentAt);
          if (stopped) continue;
          sentAt = time;
          pinger.putPacket(payload);
        }
        pinger.flush();
        echoer.poll();
        for (let packet = echoer.getPacket(); packet !== null; packet = echoer.getPacket()) echoer.putPacket(packet);
        echoer.flush();
      },
      (on) => {
        measuring = on;
        stopped ||= !on;
      },
    );
    return summarize(samples, seconds);
  } finally {
    group.close();
  }
}

/** Scenario 3: round-trip time of a 64 B ping-pong. */
export const roundTrip: Scenario = {
  name: 'round-trip',
  async run(context) {
    const settings = { warmupMs: context.ms(300, 100), durationMs: context.ms(2000, 500) };
    const results = await alternate(context, 'ping-pong 64 B', () => rawRoundTrips(settings), () => rtcmeshRoundTrips(settings));
    return [
      { scenario: this.name, metric: 'ping-pong 64 B p50, µs', raw: pick(results.raw, 'p50Us'), rtcmesh: pick(results.rtcmesh, 'p50Us'), target: ratioAtMost(1.1) },
      { scenario: this.name, metric: 'ping-pong 64 B p99, µs', raw: pick(results.raw, 'p99Us'), rtcmesh: pick(results.rtcmesh, 'p99Us') },
      { scenario: this.name, metric: 'ping-pong 64 B round trips/s', raw: pick(results.raw, 'perS'), rtcmesh: pick(results.rtcmesh, 'perS') },
    ];
  },
};
