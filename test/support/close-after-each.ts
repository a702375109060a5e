import { type TestContext, afterAll, afterEach } from 'vitest';
import { cleanup } from '../../src/index.js';

/** Something a test opens and must close: a connection, a group of peers, a proxy. */
export interface Closable {
  close(): unknown;
}

/** Records an item to close and hands it back. */
export type Track = <T extends Closable>(item: T) => T;

/** For the calling test file: releases the engine after its last test, once nothing is open. */
export function cleanupAfterAll(): void {
  afterAll(() => cleanup());
}

/**
 * For the calling test file: after each test, closes what the test tracked (in order, waiting for
 * a close that returns a promise); after the last, releases the engine, once nothing is open.
 * Returns `track`.
 */
export function closeAfterEach(): Track {
  const open: Closable[] = [];
  afterEach(async () => {
    for (const item of open.splice(0)) await item.close();
  });
  cleanupAfterAll();
  return (item) => {
    open.push(item);
    return item;
  };
}

/**
 * For a test that runs beside others of its file (`describe.concurrent`), where a file's
 * afterEach would close what the others still use: `track` for this test alone, closing what it
 * tracked when the test ends.
 */
export function closeWithTest(context: TestContext): Track {
  return (item) => {
    context.onTestFinished(async () => {
      await item.close();
    });
    return item;
  };
}
