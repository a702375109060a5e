// The demo's own packets, as a game would define them: a kind byte, then fixed-size fields.

/** What a demo packet is; the first byte of each. */
export enum DemoPacketKind {
  /** Where the sender's avatar is this tick: unreliable, stale a tick later. */
  State = 1,
  /** Something that happened (a shot, a pickup): reliable, numbered so that a gap shows. */
  Event = 2,
  /** The sender's clock when it sent this; the receiver sends it straight back as a Pong. */
  Ping = 3,
  /** A Ping's clock, returned to the peer that sent it, which takes the round trip. */
  Pong = 4,
  /** The sender has sent all its traffic: nothing but Bye follows. */
  Done = 5,
  /** The sender has heard Done from every peer; it closes once it has heard Bye from every peer. */
  Bye = 6,
}

/** A decoded demo packet. */
export type DemoPacket =
  | { kind: DemoPacketKind.State; tick: number; x: number; y: number }
  | { kind: DemoPacketKind.Event; sequence: number }
  | { kind: DemoPacketKind.Ping | DemoPacketKind.Pong; sentAtMs: number }
  | { kind: DemoPacketKind.Done | DemoPacketKind.Bye };

const KIND_BYTES = 1;
const TICK_BYTES = 4;
const SEQUENCE_BYTES = 4;
const COORDINATE_BYTES = 4;
const CLOCK_BYTES = 8;

const PACKET_BYTES: Record<DemoPacketKind, number> = {
  [DemoPacketKind.State]: KIND_BYTES + TICK_BYTES + 2 * COORDINATE_BYTES,
  [DemoPacketKind.Event]: KIND_BYTES + SEQUENCE_BYTES,
  [DemoPacketKind.Ping]: KIND_BYTES + CLOCK_BYTES,
  [DemoPacketKind.Pong]: KIND_BYTES + CLOCK_BYTES,
  [DemoPacketKind.Done]: KIND_BYTES,
  [DemoPacketKind.Bye]: KIND_BYTES,
};

/** The bytes of `packet`. */
export function encodeDemoPacket(packet: DemoPacket): Uint8Array {
  const bytes = new Uint8Array(PACKET_BYTES[packet.kind]);
  const view = new DataView(bytes.buffer);
  view.setUint8(0, packet.kind);
  switch (packet.kind) {
    case DemoPacketKind.State:
      view.setUint32(KIND_BYTES, packet.tick);
      view.setFloat32(KIND_BYTES + TICK_BYTES, packet.x);
      view.setFloat32(KIND_BYTES + TICK_BYTES + COORDINATE_BYTES, packet.y);
      break;
    case DemoPacketKind.Event:
      view.setUint32(KIND_BYTES, packet.sequence);
      break;
    case DemoPacketKind.Ping:
    case DemoPacketKind.Pong:
      view.setFloat64(KIND_BYTES, packet.sentAtMs);
      break;
    case DemoPacketKind.Done:
    case DemoPacketKind.Bye:
      break;
  }
  return bytes;
}

/** The packet `bytes` hold, or null when they are not a demo packet of the right size. */
export function decodeDemoPacket(bytes: Uint8Array): DemoPacket | null {
  const kind = bytes[0] as DemoPacketKind | undefined;
  if (kind === undefined || !(kind in PACKET_BYTES) || bytes.byteLength !== PACKET_BYTES[kind]) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (kind) {
    case DemoPacketKind.State:
      return {
        kind,
        tick: view.getUint32(KIND_BYTES),
        x: view.getFloat32(KIND_BYTES + TICK_BYTES),
        y: view.getFloat32(KIND_BYTES + TICK_BYTES + COORDINATE_BYTES),
      };
    case DemoPacketKind.Event:
      return { kind, sequence: view.getUint32(KIND_BYTES) };
    case DemoPacketKind.Ping:
    case DemoPacketKind.Pong:
      return { kind, sentAtMs: view.getFloat64(KIND_BYTES) };
    case DemoPacketKind.Done:
    case DemoPacketKind.Bye:
      return { kind };
  }
}
