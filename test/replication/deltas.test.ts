import { describe, expect, it } from 'vitest';
import { MultiplayerAPI, type MultiplayerSpawner, ReplicationMode, TransferMode } from '../../src/index.js';
import { Baselines, MAX_BASELINES } from '../../src/replication/baselines.js';
import { StateStream } from '../../src/replication/state-stream.js';
import { closeAfterEach } from '../support/close-after-each.js';
import { pollFor, pollUntil } from '../support/poll.js';
import { connectThroughProxy } from '../support/proxied-mesh.js';
import { makeApiGroup } from '../support/rpc.js';

const track = closeAfterEach();

interface Mover {
  x: number;
  y: number;
  angle: number;
  hp: number;
}

const PROPERTIES = {
  x: { type: { type: 'quantized', min: 0, max: 1000, precision: 1000 / 65535 } },
  y: { type: { type: 'quantized', min: 0, max: 1000, precision: 1000 / 65535 } },
  angle: { type: { type: 'quantized', min: 0, max: 2 * Math.PI, precision: (2 * Math.PI) / 255 }, interpolation: 'angle' },
  hp: { type: 'u8', mode: ReplicationMode.OnChange },
} as const;

function movers(api: MultiplayerAPI, replicationIntervalMs = 0): MultiplayerSpawner<Mover, null, never> {
  return api.addSpawner('/movers', { spawnFunction: (): Mover => ({ x: 0, y: 0, angle: 0, hp: 100 }), properties: PROPERTIES, replicationIntervalMs });
}

/** Bytes sent on the lane of Always state (UnreliableOrdered, transfer channel 0) to `to`. */
function stateBytes(api: MultiplayerAPI, to: number): number {
  const channel = api.getPeerStats(to).transport!.channels.find((lane) => lane.transferChannel === 0 && lane.mode === TransferMode.UnreliableOrdered)!;
  return channel.bytesSent;
}

/** Polls until `count()` stays the same through 300 ms of polls; rejects after 10 s. */
async function pollUntilIdle(apis: readonly MultiplayerAPI[], count: () => number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (let before = -1; before !== count(); ) {
    if (Date.now() > deadline) throw new Error('the sender never went idle');
    before = count();
    await pollFor(apis, 300);
  }
}

describe('baselines and streams (rules)', () => {
  it('a sender keeps at most MAX_BASELINES snapshots, and sends whole state once the acknowledged one is gone', () => {
    const baselines = new Baselines();
    baselines.add({ tick: 1, netIds: [1], values: [[1]] });
    expect(baselines.baseline()).toBeUndefined();
    baselines.acknowledge(1);
    expect(baselines.baseline()?.tick).toBe(1);
    baselines.acknowledge(7);
    expect(baselines.baseline()?.tick).toBe(1);
    for (let tick = 2; tick <= MAX_BASELINES + 1; tick++) baselines.add({ tick, netIds: [], values: [] });
    expect(baselines.baseline()).toBeUndefined();
    baselines.acknowledge(MAX_BASELINES);
    expect(baselines.baseline()?.tick).toBe(MAX_BASELINES);
    baselines.acknowledge(3);
    expect(baselines.baseline()?.tick).toBe(MAX_BASELINES);
  });

  it('a receiver keeps a tick as a baseline only when every part arrived whole, and acknowledges it once', () => {
    const stream = new StateStream(4);
    const first = stream.reception(1, 2)!;
    first.entries.set(1, [10]);
    stream.finishPart(1, 0, 0, first, () => true);
    expect(stream.baseline(1)).toBeUndefined();
    stream.finishPart(1, 1, 0, first, () => true);
    expect(stream.baseline(1)!.get(1)).toEqual([10]);
    expect(stream.takeAcknowledgement()).toBe(1);
    expect(stream.takeAcknowledgement()).toBe(0);
    const broken = stream.reception(2, 1)!;
    broken.whole = false;
    stream.finishPart(2, 0, 1, broken, () => true);
    expect(stream.baseline(2)).toBeUndefined();
    expect(stream.reception(1, 1)).toBeUndefined();
    const next = stream.reception(3, 1)!;
    next.entries.set(2, [20]);
    stream.finishPart(3, 0, 1, next, (netId) => netId !== 1);
    expect([...stream.baseline(3)!.entries()]).toEqual([[2, [20]]]);
  });
});

describe('Always state as deltas, on real connections', () => {
  it('an idle entity costs nothing, a moving one only its changed properties, and the receiver ends where the authority is', async () => {
    const g = track(await makeApiGroup(2));
    // At 60 Hz, as a game sends state: the MAX_BASELINES snapshots kept span half a second of
    // acknowledgement, which a loaded machine's late polls stay within (sent at every poll, they
    // spanned 32 polls, and an acknowledgement later than that brought whole state).
    const sender = movers(g.api(1), 1000 / 60);
    const receiver = movers(g.api(2));
    const entities = Array.from({ length: 200 }, (_, n) => {
      const entity = sender.spawn(null);
      entity.target.x = n;
      entity.target.y = 1000 - n;
      return entity;
    });
    await g.pollUntil(() => receiver.getEntities().length === 200 && Math.abs(receiver.getEntity(200)!.target.x - 199) < 0.02, 'every entity');
    // The sender sends each entity until the receiver acknowledges its last state, which a loaded
    // machine may deliver late: it is idle once 300 ms pass without a byte of state.
    await pollUntilIdle(g.apis, () => stateBytes(g.api(1), 2));
    const idleBefore = stateBytes(g.api(1), 2);
    await pollFor(g.apis, 300);
    expect(stateBytes(g.api(1), 2)).toBe(idleBefore);

    const moving = entities[57]!;
    const before = stateBytes(g.api(1), 2);
    const messagesBefore = g.api(1).getPeerStats(2).transport!.messagesSent;
    for (let step = 1; step <= 60; step++) {
      moving.target.x = 100 + step;
      await pollFor(g.apis, 5);
    }
    await g.pollUntil(() => Math.abs(receiver.getEntity(moving.netId)!.target.x - 160) < 0.02, 'the last position');
    const bytes = stateBytes(g.api(1), 2) - before;
    const ticks = g.api(1).getPeerStats(2).transport!.messagesSent - messagesBefore;
    // One entity's changed x (2 bytes) and its entry head, plus the packet's own header, per tick sent.
    expect(bytes / Math.max(1, ticks)).toBeLessThan(24);
    for (const entity of entities) {
      const seen = receiver.getEntity(entity.netId)!.target;
      expect(Math.abs(seen.x - entity.target.x)).toBeLessThan(0.02);
      expect(Math.abs(seen.y - entity.target.y)).toBeLessThan(0.02);
    }
    expect(g.api(2).getPeerStats(1).replicationDropped.missingBaseline).toBe(0);
  });

  it('through 20 % loss with delay and jitter, every entity ends exactly where the authority left it', async () => {
    const apis = [new MultiplayerAPI(), new MultiplayerAPI()];
    const mesh = track(
      await connectThroughProxy({
        beforeConnect: ({ a, b }) => {
          apis[0]!.multiplayerPeer = a;
          apis[1]!.multiplayerPeer = b;
        },
      }),
    );
    // State at 20 Hz, as a game sends it over a poor link.
    const sender = movers(apis[0]!, 50);
    sender.setMultiplayerAuthority(2);
    const receiver = movers(apis[1]!);
    receiver.setMultiplayerAuthority(2);
    await pollFor(apis, 1);
    expect(apis.map((api) => api.getPeers())).toEqual([[1], [2]]);
    mesh.conditioner.setConditions('both', { loss: 0.2, delayMs: 20, jitterMs: 30, reorder: 0.05, duplicate: 0.02 });
    const entities = Array.from({ length: 50 }, () => sender.spawn(null));
    for (let step = 0; step < 120; step++) {
      for (const [n, entity] of entities.entries()) {
        if ((n + step) % 3 === 0) {
          entity.target.x = (n * 7 + step * 3) % 1000;
          entity.target.angle = ((n + step) / 20) % (2 * Math.PI);
        }
      }
      await pollFor(apis, 8);
    }
    const settled = (): boolean =>
      entities.every((entity) => {
        const seen = receiver.getEntity(entity.netId)?.target;
        return seen !== undefined && Math.abs(seen.x - entity.target.x) < 0.02 && Math.abs(seen.angle - entity.target.angle) < 0.03;
      });
    await pollUntil(apis, settled, 'every entity to settle', 20_000);
    const dropped = apis[1]!.getPeerStats(2).replicationDropped;
    expect(dropped.badValue + dropped.malformed + dropped.notAuthority).toBe(0);
  });
});

describe('interpolation', () => {
  it('blends numbers, vectors and angles between snapshots, extrapolates a bounded time, and holds', async () => {
    const api = new MultiplayerAPI();
    const spawner = api.addSpawner('/i', {
      spawnFunction: () => ({ x: 0, at: { x: 0, y: 0 }, turn: 0, name: '' }),
      properties: {
        x: 'f64',
        at: 'vec2',
        turn: { type: { type: 'quantized', min: 0, max: 360, precision: 1 }, interpolation: 'angle' },
        name: 'string',
      },
      maxExtrapolationMs: 50,
    });
    const entity = spawner.create(1, null, 2, false);
    const synchronizer = entity.synchronizer;
    // Layout order is by name: at, name, turn, x.
    synchronizer.receiveState(2, 1, 1000, [{ x: 0, y: 0 }, 'a', 350, 10]);
    synchronizer.receiveState(2, 2, 1100, [{ x: 10, y: 20 }, 'b', 10, 20]);
    expect(synchronizer.interpolate('x', 1050)).toBe(15);
    expect(synchronizer.interpolate('at', 1025)).toEqual({ x: 2.5, y: 5 });
    expect(synchronizer.interpolate('turn', 1050)).toBeCloseTo(360);
    expect(synchronizer.interpolate('name', 1050)).toBe('a');
    expect(synchronizer.interpolate('x', 900)).toBe(10);
    expect(synchronizer.interpolate('x', 1130)).toBeCloseTo(23);
    expect(synchronizer.interpolate('x', 5000)).toBeCloseTo(25);
    expect(synchronizer.receiveState(2, 1, 1200, [{ x: 0, y: 0 }, 'old', 0, 0])).toBe(false);
    expect(() => synchronizer.interpolate('nothing', 0)).toThrow(/not an Always property/);
  });
});
