import { describe, expect, it } from 'vitest';
import { MultiplayerAPI, TransferMode } from '../../src/index.js';

// The checks in this file are made by the type checker (`npm test` runs tsc first): each line
// marked as an expected error must fail to compile, or the type check fails.
describe('rpc and rpcId are typed by the registered methods', () => {
  it('accepts right calls and rejects wrong names and argument types at compile time', () => {
    const api = new MultiplayerAPI();
    const target = {
      move(x: number, y: number): void {
        void x;
        void y;
      },
      say(text: string): void {
        void text;
      },
      secret(): void {},
    };
    const node = api.register('/typed', target, { move: { transferMode: TransferMode.Unreliable }, say: {} });
    const calls = (): void => {
      node.rpc('move', 1, 2);
      node.rpcId(3, 'say', 'hello');
      // @ts-expect-error: no such method
      node.rpc('jump', 1);
      // @ts-expect-error: declared on the object, but not as an RPC
      node.rpc('secret');
      // @ts-expect-error: wrong argument type
      node.rpc('move', 'a', 2);
      // @ts-expect-error: missing argument
      node.rpcId(2, 'say');
    };
    expect(typeof calls).toBe('function');
    // At run time too, a config naming no method of the object is refused.
    // @ts-expect-error: the config may only name methods of the object
    expect(() => api.register('/typed2', target, { nope: {} })).toThrow(/no method "nope"/);
  });
});
