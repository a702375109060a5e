import { describe, expect, it } from 'vitest';
import { ReliableLog } from '../../src/mesh/reliable-log.js';

function sendAll(log: ReliableLog): number[] {
  const sent: number[] = [];
  for (let message = log.peekUnsent(); message; message = log.peekUnsent()) {
    sent.push(message[0]!);
    log.markSent();
  }
  return sent;
}

describe('the log of unacknowledged reliable messages', () => {
  it('frees what an acknowledgement covers and resends the rest, in order, after a rewind', () => {
    const log = new ReliableLog();
    for (let n = 0; n < 5; n++) log.append(Uint8Array.of(n, 0, 0));
    expect(sendAll(log)).toEqual([0, 1, 2, 3, 4]);
    expect(log.acknowledge(2)).toBe('taken');
    expect(log.bytes).toBe(9);
    expect(log.count).toBe(3);
    log.append(Uint8Array.of(5));
    log.rewind();
    expect(sendAll(log)).toEqual([2, 3, 4, 5]);
    expect(log.acknowledge(6)).toBe('taken');
    expect(log).toMatchObject({ bytes: 0, count: 0 });
  });

  it('ignores an older acknowledgement and refuses one for messages not sent', () => {
    const log = new ReliableLog();
    for (let n = 0; n < 3; n++) log.append(Uint8Array.of(n));
    log.markSent();
    log.markSent();
    expect(log.acknowledge(2)).toBe('taken');
    expect(log.acknowledge(1)).toBe('old');
    // Message 2 is kept but was never handed to the connection: nobody can have received it.
    expect(log.acknowledge(3)).toBe('invalid');
    expect(log.acknowledge(1000)).toBe('invalid');
    expect(log.count).toBe(1);
  });


  it('reclaims acknowledged entries as it goes', () => {
    const log = new ReliableLog();
    for (let n = 0; n < 1000; n++) {
      log.append(Uint8Array.of(n & 0xff));
      sendAll(log);
      expect(log.acknowledge(n + 1)).toBe('taken');
    }
    expect(log.count).toBe(0);
  });
});
