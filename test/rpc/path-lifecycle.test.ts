import { describe, expect, it } from 'vitest';
import { TransferMode } from '../../src/index.js';
import { cleanupAfterAll, closeWithTest } from '../support/close-after-each.js';
import { makeApiGroup } from '../support/rpc.js';

cleanupAfterAll();

class Player {
  hits: number[] = [];
  hit(damage: number): void {
    this.hits.push(damage);
  }
}

const CONFIG = {
  hit: { mode: 'anyPeer', transferMode: TransferMode.Reliable, channel: 1 },
} as const;

function pathsOf(api: unknown, peerId: number): { sent: Map<number, unknown>; received: Map<number, unknown> } {
  // The per-link tables are internal; the bound on them is what this suite checks.
  const links = (api as { links: Map<number, { sent: Map<number, unknown>; received: Map<number, unknown> }> }).links;
  return links.get(peerId)!;
}

// Each test has peers of its own and mostly waits on their links: they run side by side.
describe.concurrent('objects that come and go at a path, on real connections', () => {
  it('an object registered again at a path, on both sides, takes calls every time: 1,100 cycles, tables bounded', async (context) => {
    const track = closeWithTest(context);
    const g = track(await makeApiGroup(2, { channels: [TransferMode.Reliable] }));
    const errors: Error[] = [];
    for (const api of g.apis) api.on('error', (error) => errors.push(error));
    let delivered = 0;
    for (let cycle = 0; cycle < 1100; cycle++) {
      const mine = g.api(1).register('/players/7', new Player(), CONFIG);
      const theirs = new Player();
      g.api(2).register('/players/7', theirs, CONFIG);
      expect(mine.rpcId(2, 'hit', cycle)).toBe(true);
      await g.pollUntil(() => theirs.hits.length === 1, `the call of cycle ${cycle}`);
      expect(theirs.hits).toEqual([cycle]);
      delivered++;
      g.api(1).unregister('/players/7');
      g.api(2).unregister('/players/7');
    }
    expect(delivered).toBe(1100);
    await g.pollUntil(() => pathsOf(g.api(2), 1).received.size === 0, 'every release to arrive');
    expect(pathsOf(g.api(1), 2).sent.size).toBe(0);
    expect(g.api(2).getPeerStats(1).dropped.unknownPath).toBe(0);
    expect(g.api(2).getPeerStats(1).dropped.tooManyPaths).toBe(0);
    expect(errors).toEqual([]);
  });

  it('a reliable call made just before unregister() arrives, whatever channel it took', async (context) => {
    const track = closeWithTest(context);
    const g = track(await makeApiGroup(2, { channels: [TransferMode.Reliable, TransferMode.Reliable] }));
    const theirs = new Player();
    g.api(2).register('/p', theirs, CONFIG);
    const many = { hit: { mode: 'anyPeer', channel: 2 } } as const;
    for (let round = 0; round < 20; round++) {
      const node = g.api(1).register('/p', new Player(), round % 2 === 0 ? CONFIG : many);
      if (round % 2 === 1) g.api(2).unregister('/p');
      if (round % 2 === 1) g.api(2).register('/p', theirs, many);
      else if (round > 0) {
        g.api(2).unregister('/p');
        g.api(2).register('/p', theirs, CONFIG);
      }
      await g.pollUntil(() => true, 'a poll');
      for (let n = 0; n < 50; n++) node.rpcId(2, 'hit', round * 50 + n);
      g.api(1).unregister('/p');
      await g.pollUntil(() => theirs.hits.length === (round + 1) * 50, `round ${round}'s calls`);
    }
    expect(theirs.hits).toEqual(Array.from({ length: 1000 }, (_, n) => n));
  });

  it('a path registered on the receiver after it refused the announcement starts taking calls', async (context) => {
    const track = closeWithTest(context);
    const g = track(await makeApiGroup(2));
    const errors: string[] = [];
    g.api(1).on('error', (error) => errors.push(error.message));
    const node = g.api(1).register('/late', new Player(), { hit: { mode: 'anyPeer' } });
    node.rpcId(2, 'hit', 1);
    await g.pollUntil(() => errors.length === 1, 'the refusal');
    expect(errors[0]).toMatch(/nothing registered at \/late/);
    expect(node.rpcId(2, 'hit', 2)).toBe(false);
    expect(g.api(1).getPeerStats(2).dropped.pathRefused).toBe(1);
    const late = new Player();
    g.api(2).register('/late', late, { hit: { mode: 'anyPeer' } });
    await g.pollUntil(() => node.rpcId(2, 'hit', 3), 'the path to be accepted');
    await g.pollUntil(() => late.hits.length === 1, 'the call');
    expect(late.hits).toEqual([3]);
  });

  it('a receiver that unregisters a path makes the sender refuse its calls (false, counted) until it registers again', async (context) => {
    const track = closeWithTest(context);
    const g = track(await makeApiGroup(2));
    const first = new Player();
    g.api(2).register('/p', first, { hit: { mode: 'anyPeer' } });
    const node = g.api(1).register('/p', new Player(), { hit: { mode: 'anyPeer' } });
    node.rpcId(2, 'hit', 1);
    await g.pollUntil(() => first.hits.length === 1, 'the first call');
    g.api(2).unregister('/p');
    await g.pollUntil(() => !node.rpcId(2, 'hit', 0), 'the sender to learn the path is gone');
    const second = new Player();
    g.api(2).register('/p', second, { hit: { mode: 'anyPeer' } });
    await g.pollUntil(() => node.rpcId(2, 'hit', 2), 'the path to be back');
    await g.pollUntil(() => second.hits.includes(2), 'a call to the new object');
    expect(first.hits).toEqual([1]);
  });

  it('a peer whose table of this side\'s paths is full refuses more: an error event and false, then a retry once there is room', async (context) => {
    const track = closeWithTest(context);
    const g = track(await makeApiGroup(2, { api: { maxPathsPerPeer: 8 } }));
    const errors: string[] = [];
    g.api(1).on('error', (error) => errors.push(error.message));
    const targets = Array.from({ length: 10 }, () => new Player());
    const nodes = targets.map((target, n) => {
      g.api(2).register(`/p${n}`, target, { hit: { mode: 'anyPeer' } });
      return g.api(1).register(`/p${n}`, new Player(), { hit: { mode: 'anyPeer' } });
    });
    for (const node of nodes) node.rpcId(2, 'hit', 1);
    await g.pollUntil(() => errors.length === 2, 'two refusals');
    expect(errors[0]).toMatch(/maxPathsPerPeer/);
    expect(g.api(2).getPeerStats(1).dropped.tooManyPaths).toBe(2);
    expect(nodes[9]!.rpcId(2, 'hit', 2)).toBe(false);
    expect(g.api(1).getPeerStats(2).dropped.pathRefused).toBe(1);
    expect(targets.slice(0, 8).every((target) => target.hits.length === 1)).toBe(true);
    for (let n = 0; n < 8; n++) g.api(1).unregister(`/p${n}`);
    await g.pollUntil(() => pathsOf(g.api(2), 1).received.size === 0, 'the releases');
    await g.pollUntil(() => {
      nodes[9]!.rpcId(2, 'hit', 3);
      return targets[9]!.hits.includes(3);
    }, 'the path to be announced again');
    expect(errors.length).toBe(2);
  });
});
