import { describe, expect, it } from 'vitest';
import { BoundedQueue, PER_PACKET_OVERHEAD_BYTES } from '../../src/transport/bounded-queue.js';

/** Shifts every readable item. */
function drain<T>(queue: BoundedQueue<T>): T[] {
  const out: T[] = [];
  for (let item = queue.shift(); item !== undefined; item = queue.shift()) out.push(item);
  return out;
}

describe('BoundedQueue', () => {
  it('shows items only once committed, in order', () => {
    const queue = new BoundedQueue<number>(1 << 20);
    queue.push(1, 10);
    queue.push(2, 10);
    expect(queue.shift()).toBeUndefined();
    expect(queue.length).toBe(2);
    queue.commit();
    queue.push(3, 10);
    expect(queue.readableCount).toBe(2);
    expect(drain(queue)).toEqual([1, 2]);
    expect(queue.length).toBe(1);
    queue.commit();
    expect(drain(queue)).toEqual([3]);
    expect(queue.length).toBe(0);
  });

  it('refuses what would pass the byte limit, the per-item overhead counted, and takes again once read', () => {
    const item = 100;
    const queue = new BoundedQueue<number>(3 * (item + PER_PACKET_OVERHEAD_BYTES));
    expect([1, 2, 3, 4].map((n) => queue.push(n, item))).toEqual([true, true, true, false]);
    // An empty item still costs its overhead: a flood of them is bounded too.
    expect(queue.push(5, 0)).toBe(false);
    queue.commit();
    expect(queue.shift()).toBe(1);
    expect(queue.push(6, item)).toBe(true);
    queue.commit();
    expect(drain(queue)).toEqual([2, 3, 6]);
  });

  it('keeps order when emptied and refilled one item at a time, and through compaction of a long queue', () => {
    const queue = new BoundedQueue<number>(1 << 30);
    for (let n = 0; n < 100; n++) {
      queue.push(n, 1);
      queue.commit();
      expect(queue.shift()).toBe(n);
    }
    const expected: number[] = [];
    let next = 0;
    // Long enough that the consumed head is compacted away several times, with items pushed between reads.
    for (let round = 0; round < 5; round++) {
      for (let n = 0; n < 3000; n++) {
        queue.push(next, 1);
        expected.push(next++);
      }
      queue.commit();
      for (let n = 0; n < 2500; n++) expect(queue.shift()).toBe(expected.shift());
    }
    expect(queue.length).toBe(expected.length);
    expect(drain(queue)).toEqual(expected);
    // Emptied after holding thousands: it works as new.
    queue.push(-1, 1);
    queue.commit();
    expect(drain(queue)).toEqual([-1]);
  });

  it('clear() drops everything and frees its bytes', () => {
    const queue = new BoundedQueue<number>(2 * (10 + PER_PACKET_OVERHEAD_BYTES));
    queue.push(1, 10);
    queue.push(2, 10);
    queue.commit();
    queue.clear();
    expect(queue.length).toBe(0);
    expect(queue.shift()).toBeUndefined();
    expect(queue.push(3, 10) && queue.push(4, 10)).toBe(true);
    queue.commit();
    expect(drain(queue)).toEqual([3, 4]);
  });
});
