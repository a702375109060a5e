/**
 * Scenario 5: RPCs. End to end, calls per second that ran their handler on the other side
 * (MultiplayerAPI over a connected pair, against JSON messages over a raw channel); and the codec
 * alone, encodeCall + decode of a call with three numbers and a short string, against
 * JSON.stringify + JSON.parse of the same call.
 */
import { MultiplayerAPI } from '../../src/index.js';
import { RpcCodec } from '../../src/rpc/codec.js';
import { makeGroup } from '../broker.js';
import { type BenchContext, type Scenario, alternate } from '../harness.js';
import { measureWindow, now } from '../loop.js';
import { RELIABLE, connectRawLink } from '../raw-link.js';
import { type Row, atLeast } from '../results.js';
import { withRetries } from '../retry.js';
import { SendWindow } from '../send-window.js';

const PATH = 'world/avatar';
const ARGS = [1.5, -2.25, 3, 'hero'] as const;
/** The sender keeps at most this much buffered, and makes at most this many calls a loop turn. */
const HIGH_WATER = 1024 * 1024;
const LOW_WATER = 256 * 1024;
const MAX_CALLS_PER_TURN = 4096;
/** A budget for the window: what one call costs on the wire, give or take. */
const CALL_BYTES_ESTIMATE = 32;

/** The object whose method the calls run. */
class Avatar {
  measuring = false;
  runs = 0;

  move(x: number, y: number, z: number, name: string): void {
    if (this.measuring && typeof x === 'number' && typeof y === 'number' && typeof z === 'number' && typeof name === 'string') this.runs++;
  }
}

interface Settings {
  warmupMs: number;
  durationMs: number;
}

function callsThisTurn(window: SendWindow, buffered: number): number {
  return Math.min(MAX_CALLS_PER_TURN, Math.floor(window.room(buffered) / CALL_BYTES_ESTIMATE));
}

/** The baseline: each call one JSON text message, parsed and dispatched by path and method on arrival. */
async function rawCalls(settings: Settings): Promise<number> {
  const link = await connectRawLink([{ id: 1, options: RELIABLE }]);
  try {
    const tx = link.a.channels[0]!;
    const rx = link.b.channels[0]!;
    const avatar = new Avatar();
    const objects = new Map<string, Record<string, (...args: unknown[]) => void>>([[PATH, avatar as unknown as Record<string, (...args: unknown[]) => void>]]);
    rx.onMessage((message) => {
      const call = JSON.parse(String(message)) as { path: string; method: string; args: unknown[] };
      objects.get(call.path)?.[call.method]?.apply(avatar, call.args);
    });
    const window = new SendWindow(HIGH_WATER, LOW_WATER);
    const seconds = await measureWindow(
      settings.warmupMs,
      settings.durationMs,
      () => {
        for (let n = callsThisTurn(window, tx.bufferedAmount()); n > 0; n--) {
          tx.sendMessage(JSON.stringify({ path: PATH, method: 'move', args: ARGS }));
        }
      },
      (on) => (avatar.measuring = on),
    );
    return avatar.runs / seconds;
  } finally {
    await link.close();
  }
}

async function rtcmeshCalls(settings: Settings): Promise<number> {
  const { group, receiver, caller } = await withRetries('a pair with APIs', async () => {
    // The APIs listen before the peers connect: MultiplayerAPI learns of its peers from peerConnected.
    const made = makeGroup(2);
    const [receiverApi, callerApi] = [1, 2].map((id) => {
      const api = new MultiplayerAPI();
      api.multiplayerPeer = made.peer(id);
      return api;
    }) as [MultiplayerAPI, MultiplayerAPI];
    try {
      await made.waitFormed();
    } catch (error) {
      made.close();
      throw error;
    }
    return { group: made, receiver: receiverApi, caller: callerApi };
  });
  try {
    const avatars = [new Avatar(), new Avatar()];
    receiver.register(PATH, avatars[0]!, { move: { mode: 'anyPeer' } });
    const node = caller.register(PATH, avatars[1]!, { move: { mode: 'anyPeer' } });
    const callerPeer = group.peer(2);
    const window = new SendWindow(HIGH_WATER, LOW_WATER);
    const seconds = await measureWindow(
      settings.warmupMs,
      settings.durationMs,
      () => {
        for (let n = callsThisTurn(window, callerPeer.getPeerStats(1).bufferedBytes); n > 0; n--) {
          node.rpcId(1, 'move', ARGS[0], ARGS[1], ARGS[2], ARGS[3]);
        }
        caller.poll();
        receiver.poll();
      },
      (on) => (avatars[0]!.measuring = on),
    );
    return avatars[0]!.runs / seconds;
  } finally {
    group.close();
  }
}

/** Runs `operation` in a tight loop, in rounds, for a warm-up and then `durationMs`; returns operations per second. */
function opsPerSecond(settings: Settings, operation: () => void): number {
  const ROUND = 1000;
  const warmEnd = now() + settings.warmupMs;
  while (now() < warmEnd) for (let n = 0; n < ROUND; n++) operation();
  let count = 0;
  const start = now();
  let elapsed = 0;
  do {
    for (let n = 0; n < ROUND; n++) operation();
    count += ROUND;
    elapsed = now() - start;
  } while (elapsed < settings.durationMs);
  return count / (elapsed / 1000);
}

function codecRate(settings: Settings): number {
  const codec = new RpcCodec();
  const args = [...ARGS];
  return opsPerSecond(settings, () => {
    const decoded = codec.decode(codec.encodeCall(1, 0, args));
    if (!decoded.ok) throw new Error(`the codec refused its own call: ${decoded.reason}`);
  });
}

function jsonRate(settings: Settings): number {
  const args = [...ARGS];
  return opsPerSecond(settings, () => {
    const decoded = JSON.parse(JSON.stringify({ pathId: 1, methodId: 0, args })) as { args: unknown[] };
    if (decoded.args.length !== args.length) throw new Error('JSON lost the arguments');
  });
}

function endToEndSettings(context: BenchContext): Settings {
  return { warmupMs: context.ms(300, 100), durationMs: context.ms(3000, 500) };
}

/** Scenario 5: RPC calls end to end, and the codec alone. */
export const rpc: Scenario = {
  name: 'rpc',
  async run(context) {
    const endToEnd = endToEndSettings(context);
    const calls = await alternate(context, 'RPC end to end', () => rawCalls(endToEnd), () => rtcmeshCalls(endToEnd));
    const codecSettings = { warmupMs: context.ms(200, 50), durationMs: context.ms(1000, 200) };
    const codec = await alternate(
      context,
      'codec',
      async () => jsonRate(codecSettings),
      async () => codecRate(codecSettings),
    );
    const rows: Row[] = [
      { scenario: this.name, metric: 'calls run end to end/s (raw: JSON messages)', raw: calls.raw, rtcmesh: calls.rtcmesh },
      {
        scenario: this.name,
        metric: 'codec encode+decode/s (raw: JSON stringify+parse)',
        raw: codec.raw,
        rtcmesh: codec.rtcmesh,
        target: atLeast(1_000_000, '/s'),
      },
    ];
    return rows;
  },
};
