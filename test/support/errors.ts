import { expect } from 'vitest';
import { RtcError, type GodotErrorName } from '../../src/transport/errors.js';

/** Asserts that `action` throws an RtcError with the given Godot error name. */
export function expectRtcError(action: () => unknown, code: GodotErrorName): void {
  let thrown: unknown;
  try {
    action();
  } catch (error) {
    thrown = error;
  }
  expect(thrown, `expected RtcError ${code}`).toBeInstanceOf(RtcError);
  expect((thrown as RtcError).code).toBe(code);
  expect((thrown as RtcError).message.length).toBeGreaterThan(10);
}
