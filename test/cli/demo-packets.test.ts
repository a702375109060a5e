import { describe, expect, it } from 'vitest';
import { type DemoPacket, DemoPacketKind, decodeDemoPacket, encodeDemoPacket } from '../../src/cli/demo-packets.js';

describe('demo packets', () => {
  it.each<DemoPacket>([
    { kind: DemoPacketKind.State, tick: 4_000_000_000, x: 0.5, y: -0.25 },
    { kind: DemoPacketKind.Event, sequence: 123_456 },
    { kind: DemoPacketKind.Ping, sentAtMs: 1234.5678 },
    { kind: DemoPacketKind.Pong, sentAtMs: 0.125 },
    { kind: DemoPacketKind.Done },
    { kind: DemoPacketKind.Bye },
  ])('decode what encode wrote: kind $kind', (packet) => {
    expect(decodeDemoPacket(encodeDemoPacket(packet))).toEqual(packet);
  });

  it('decodes a packet that sits inside a larger buffer', () => {
    const bytes = encodeDemoPacket({ kind: DemoPacketKind.Event, sequence: 9 });
    const buffer = new Uint8Array(bytes.byteLength + 3);
    buffer.set(bytes, 3);
    expect(decodeDemoPacket(buffer.subarray(3))).toEqual({ kind: DemoPacketKind.Event, sequence: 9 });
  });

  it.each([
    ['empty', new Uint8Array(0)],
    ['an unknown kind', new Uint8Array([99])],
    ['too short', new Uint8Array([DemoPacketKind.Ping, 1, 2])],
    ['too long', new Uint8Array([DemoPacketKind.Done, 0])],
  ])('refuses a packet that is %s', (_, bytes) => {
    expect(decodeDemoPacket(bytes)).toBeNull();
  });
});
