import { describe, expect, it } from 'vitest';
import { ReadOrder } from '../../src/mesh/read-order.js';

interface FakePeer {
  id: number;
  available: number;
  connected: boolean;
}

/** Reads every packet through the order, as getPacket() does, and lists whose each was. */
function readAll(order: ReadOrder<FakePeer>, most = Number.POSITIVE_INFINITY): number[] {
  const read: number[] = [];
  for (let peer = order.peek(); peer && read.length < most; peer = order.peek()) {
    peer.available--;
    order.taken(peer);
    read.push(peer.id);
  }
  return read;
}

function peersOf(counts: ReadonlyArray<[id: number, available: number]>): Map<number, FakePeer> {
  return new Map(counts.map(([id, available]) => [id, { id, available, connected: true }]));
}

describe('ReadOrder', () => {
  it('takes one packet from each peer in turn, skipping those with none, and counts what is left', () => {
    const peers = peersOf([[2, 3], [3, 0], [4, 1], [5, 2]]);
    const order = new ReadOrder(peers);
    expect(order.count()).toBe(6);
    expect(readAll(order, 4)).toEqual([2, 4, 5, 2]);
    expect(order.count()).toBe(2);
    expect(readAll(order)).toEqual([5, 2]);
    expect(order.count()).toBe(0);
    expect(order.peek()).toBeUndefined();
  });

  it('starts a new poll after the peer read last, and from the first after reset()', () => {
    const peers = peersOf([[2, 1], [3, 1], [4, 1]]);
    const order = new ReadOrder(peers);
    expect(readAll(order, 2)).toEqual([2, 3]);
    for (const peer of peers.values()) peer.available++;
    order.invalidate();
    expect(readAll(order)).toEqual([4, 2, 3, 4]);
    for (const peer of peers.values()) peer.available = 1;
    order.reset();
    expect(readAll(order)).toEqual([2, 3, 4]);
  });

  it('reads only the peers of the current poll after a poll with more, and none that was removed', () => {
    const peers = peersOf([[2, 2], [3, 2], [4, 2], [5, 2]]);
    const order = new ReadOrder(peers);
    expect(readAll(order, 3)).toEqual([2, 3, 4]);
    for (const id of [2, 3, 4]) peers.get(id)!.available = 0;
    peers.delete(5);
    peers.get(3)!.available = 2;
    order.invalidate();
    expect(order.count()).toBe(2);
    expect(readAll(order)).toEqual([3, 3]);
    peers.get(4)!.available = 1;
    order.invalidate();
    expect(readAll(order)).toEqual([4]);
  });

  it('never reads a peer that is no longer connected, even one left in the order', () => {
    const peers = peersOf([[2, 2], [3, 2]]);
    const order = new ReadOrder(peers);
    expect(readAll(order, 1)).toEqual([2]);
    peers.get(3)!.connected = false;
    expect(readAll(order)).toEqual([2]);
    expect(order.peek()).toBeUndefined();
  });
});
