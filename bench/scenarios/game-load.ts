/**
 * Scenario 4: a game-shaped load. Four peers in a full mesh (one host and three others), each
 * frame at 60 Hz every peer sends 50 small messages (20–100 B) to each of the three others:
 * 10 reliable (events) and 40 unreliable (state). Reported: what arrived per second, and the CPU
 * the whole process spent (every peer, and node-datachannel's threads) as % of one core.
 */
import type { DataChannel } from 'node-datachannel';
import { TransferMode, type WebRTCMultiplayerPeer } from '../../src/index.js';
import { formGroup } from '../broker.js';
import { type Scenario, alternate, pick } from '../harness.js';
import { now, sleep } from '../loop.js';
import { RELIABLE, type RawLink, UNRELIABLE, connectRawLinks } from '../raw-link.js';

const PEERS = 4;
const FRAME_HZ = 60;
const FRAME_MS = 1000 / FRAME_HZ;
const RELIABLE_PER_FRAME = 10;
const UNRELIABLE_PER_FRAME = 40;
const MIN_MESSAGE_BYTES = 20;
const MAX_MESSAGE_BYTES = 100;
/** The rate at which messages are put: every peer, to each other peer, each frame. */
const OFFERED_PER_S = PEERS * (PEERS - 1) * (RELIABLE_PER_FRAME + UNRELIABLE_PER_FRAME) * FRAME_HZ;

/** The messages of a frame: the same sizes every frame, drawn once from a fixed seed. */
function framePayloads(): { reliable: Uint8Array[]; unreliable: Uint8Array[] } {
  let seed = 0x2545f491;
  const nextSize = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return MIN_MESSAGE_BYTES + (seed % (MAX_MESSAGE_BYTES - MIN_MESSAGE_BYTES + 1));
  };
  const make = (count: number): Uint8Array[] => Array.from({ length: count }, () => new Uint8Array(nextSize()).fill(7));
  return { reliable: make(RELIABLE_PER_FRAME), unreliable: make(UNRELIABLE_PER_FRAME) };
}

interface GameLoad {
  deliveredPerS: number;
  cpuPct: number;
}

interface GameSettings {
  warmupMs: number;
  durationMs: number;
}

/**
 * Runs `frame` at 60 Hz, sleeping between frames as a game loop does: first for the warm-up,
 * then for the measured window, over which it takes the process's CPU time.
 */
async function runFrames(settings: GameSettings, frame: () => void, measuring: (on: boolean) => void): Promise<{ seconds: number; cpuPct: number }> {
  const start = now();
  let nextFrame = start;
  let windowStart = -1;
  let cpuAtStart = process.cpuUsage();
  for (;;) {
    frame();
    const time = now();
    if (windowStart < 0 && time - start >= settings.warmupMs) {
      windowStart = time;
      cpuAtStart = process.cpuUsage();
      measuring(true);
    } else if (windowStart >= 0 && time - windowStart >= settings.durationMs) {
      const cpu = process.cpuUsage(cpuAtStart);
      measuring(false);
      const wallMs = time - windowStart;
      return { seconds: wallMs / 1000, cpuPct: (100 * (cpu.user + cpu.system)) / 1000 / wallMs };
    }
    nextFrame += FRAME_MS;
    // A frame that ran late does not make the next ones catch up in a burst.
    if (nextFrame < time - FRAME_MS) nextFrame = time;
    await sleep(Math.max(0, nextFrame - now()));
  }
}

async function rawGame(settings: GameSettings): Promise<GameLoad> {
  const pairs: Array<[number, number]> = [];
  for (let a = 0; a < PEERS; a++) for (let b = a + 1; b < PEERS; b++) pairs.push([a, b]);
  const links: RawLink[] = await connectRawLinks(pairs.length, [
    { id: 1, options: RELIABLE },
    { id: 2, options: UNRELIABLE },
  ]);
  try {
    // outgoing[p]: peer p's two channels to each of the others.
    const outgoing: Array<Array<{ reliable: DataChannel; unreliable: DataChannel }>> = Array.from({ length: PEERS }, () => []);
    let measuring = false;
    let delivered = 0;
    pairs.forEach(([a, b], n) => {
      const link = links[n]!;
      for (const [peer, end] of [
        [a, link.a],
        [b, link.b],
      ] as const) {
        outgoing[peer]!.push({ reliable: end.channels[0]!, unreliable: end.channels[1]! });
        for (const channel of end.channels) {
          channel.onMessage(() => {
            if (measuring) delivered++;
          });
        }
      }
    });
    const payloads = framePayloads();
    const result = await runFrames(
      settings,
      () => {
        for (const channels of outgoing) {
          for (const { reliable, unreliable } of channels) {
            for (const payload of payloads.reliable) reliable.sendMessageBinary(payload);
            for (const payload of payloads.unreliable) unreliable.sendMessageBinary(payload);
          }
        }
      },
      (on) => (measuring = on),
    );
    return { deliveredPerS: delivered / result.seconds, cpuPct: result.cpuPct };
  } finally {
    await Promise.all(links.map((link) => link.close()));
  }
}

async function rtcmeshGame(settings: GameSettings): Promise<GameLoad> {
  const group = await formGroup(PEERS);
  try {
    const payloads = framePayloads();
    let measuring = false;
    let delivered = 0;
    const frameOf = (peer: WebRTCMultiplayerPeer, id: number): void => {
      peer.poll();
      for (let packet = peer.getPacket(); packet !== null; packet = peer.getPacket()) if (measuring) delivered++;
      for (let other = 1; other <= PEERS; other++) {
        if (other === id) continue;
        peer.setTargetPeer(other);
        peer.transferMode = TransferMode.Reliable;
        for (const payload of payloads.reliable) peer.putPacket(payload);
        peer.transferMode = TransferMode.Unreliable;
        for (const payload of payloads.unreliable) peer.putPacket(payload);
      }
      // Sent at the end of the frame rather than at the next poll, a frame later: as the raw side does.
      peer.flush();
    };
    const result = await runFrames(
      settings,
      () => {
        for (const member of group.members) frameOf(member.peer, member.id);
      },
      (on) => (measuring = on),
    );
    return { deliveredPerS: delivered / result.seconds, cpuPct: result.cpuPct };
  } finally {
    group.close();
  }
}

/** CPU microseconds per delivered packet, for each repetition: % of a core is 10^4 µs a second. */
function perPacket(results: readonly GameLoad[]): number[] {
  return results.map((result) => (result.cpuPct * 1e4) / result.deliveredPerS);
}

/** Scenario 4: four peers at 60 Hz, 50 messages a frame to each other peer. */
export const gameLoad: Scenario = {
  name: 'game-load',
  async run(context) {
    const settings = { warmupMs: context.ms(500, 200), durationMs: context.ms(3000, 800) };
    const results = await alternate(context, 'game load', () => rawGame(settings), () => rtcmeshGame(settings));
    return [
      {
        scenario: this.name,
        metric: `4 peers 60 Hz, delivered msg/s (of ${OFFERED_PER_S.toLocaleString('en-US')} put)`,
        raw: pick(results.raw, 'deliveredPerS'),
        rtcmesh: pick(results.rtcmesh, 'deliveredPerS'),
      },
      {
        scenario: this.name,
        metric: '4 peers 60 Hz, CPU % of one core',
        raw: pick(results.raw, 'cpuPct'),
        rtcmesh: pick(results.rtcmesh, 'cpuPct'),
      },
      {
        // Both ends of every packet, engine threads included: what a packet costs, sent and read.
        scenario: this.name,
        metric: '4 peers 60 Hz, CPU µs per packet delivered',
        raw: perPacket(results.raw),
        rtcmesh: perPacket(results.rtcmesh),
      },
    ];
  },
};
