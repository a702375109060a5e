import { afterAll, afterEach } from 'vitest';
import { cleanup } from '../../src/index.js';

/** Something a test opens and must close: a connection, a group of peers, a proxy. */
export interface Closable {
  close(): unknown;
}

/**
 * For the calling test file: after each test, closes what the test tracked (in order, waiting for
 * a close that returns a promise); after the last, releases the engine, once nothing is open.
 * Returns `track`, which records an item and hands it back.
 */
export function closeAfterEach(): <T extends Closable>(item: T) => T {
  const open: Closable[] = [];
  afterEach(async () => {
    for (const item of open.splice(0)) await item.close();
  });
  afterAll(() => cleanup());
  return (item) => {
    open.push(item);
    return item;
  };
}
