import { describe, expect, it } from 'vitest';
import { BoundedQueue, PER_PACKET_OVERHEAD_BYTES } from '../../src/transport/bounded-queue.js';

describe('BoundedQueue', () => {
  it('shows items only once committed, in order, and counts each at its size plus the overhead', () => {
    const queue = new BoundedQueue<number>(3 * (10 + PER_PACKET_OVERHEAD_BYTES));
    expect(queue.push(1, 10)).toBe(true);
    expect(queue.push(2, 10)).toBe(true);
    expect(queue.shift()).toBeUndefined();
    queue.commit();
    expect(queue.push(3, 10)).toBe(true);
    expect(queue.push(4, 0)).toBe(false);
    expect([queue.readableCount, queue.length]).toEqual([2, 3]);
    expect(queue.shift()).toBe(1);
    // Reading frees its cost at once.
    expect(queue.push(4, 10)).toBe(true);
    expect(queue.shift()).toBe(2);
    expect(queue.shift()).toBeUndefined();
    queue.commit();
    expect([queue.shift(), queue.shift(), queue.shift()]).toEqual([3, 4, undefined]);
    expect([queue.readableCount, queue.length]).toEqual([0, 0]);
  });

  it('keeps order and its byte count across many fills read dry, within one chunk and over many', () => {
    const queue = new BoundedQueue<number>(5000 * (1 + PER_PACKET_OVERHEAD_BYTES));
    let next = 0;
    let expected = 0;
    for (let round = 0; round < 40; round++) {
      const count = round % 4 === 3 ? 3000 : 1 + round * 7;
      for (let n = 0; n < count; n++) expect(queue.push(next++, 1)).toBe(true);
      queue.commit();
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) expect(item).toBe(expected++);
      expect(queue.length).toBe(0);
    }
    expect(expected).toBe(next);
    // Nothing read is still counted: the whole limit is free again.
    for (let n = 0; n < 5000; n++) expect(queue.push(n, 1)).toBe(true);
    expect(queue.push(0, 0)).toBe(false);
  });

  it('keeps order under steady traffic that never empties it, over many chunks', () => {
    const queue = new BoundedQueue<number>(Number.POSITIVE_INFINITY);
    let next = 0;
    let expected = 0;
    for (let n = 0; n < 500; n++) queue.push(next++, 0);
    for (let round = 0; round < 50; round++) {
      for (let n = 0; n < 100; n++) queue.push(next++, 0);
      queue.commit();
      // Reads one less than it pushed: the queue never empties, and reads and writes move on through chunks.
      for (let n = 0; n < 99; n++) expect(queue.shift()).toBe(expected++);
    }
    expect(queue.length).toBe(next - expected);
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) expect(item).toBe(expected++);
    expect(expected).toBe(next);
  });

  it('stops at what was committed, in the middle of a chunk or at its end', () => {
    const queue = new BoundedQueue<number>(Number.POSITIVE_INFINITY);
    let expected = 0;
    for (const [committed, more] of [[100, 50], [14, 64], [64, 1], [0, 3]] as const) {
      const first = expected + queue.length;
      for (let n = 0; n < committed; n++) queue.push(first + n, 0);
      queue.commit();
      for (let n = 0; n < more; n++) queue.push(first + committed + n, 0);
      while (queue.readableCount > 0) expect(queue.shift()).toBe(expected++);
      expect(queue.shift()).toBeUndefined();
      expect(queue.length).toBe(more);
      queue.commit();
    }
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) expect(item).toBe(expected++);
    expect(expected).toBe(100 + 50 + 14 + 64 + 64 + 1 + 0 + 3);
  });

  it('drops everything at clear()', () => {
    const queue = new BoundedQueue<string>(2 * (1 + PER_PACKET_OVERHEAD_BYTES));
    queue.push('a', 1);
    queue.push('b', 1);
    queue.commit();
    queue.clear();
    expect([queue.readableCount, queue.length, queue.shift()]).toEqual([0, 0, undefined]);
    expect(queue.push('c', 1) && queue.push('d', 1)).toBe(true);
  });
});
