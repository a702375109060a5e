// What the nodes of a cluster tell each other over Redis pub/sub, one JSON envelope per message,
// and its check: another node is trusted no more than a socket, since Redis may be shared.
import { CLOSE_CAUSES, type CloseCause } from '../server-counters.js';

/** From a socket's node to the node of its lobby: the socket asks to join. */
export interface JoinEnvelope {
  op: 'join';
  from: string;
  serial: number;
  /** The JOIN frame, as the socket sent it. */
  text: string;
}

/** From a socket's node to the node of its lobby: a frame the socket sent, checked for size and rate. */
export interface FrameEnvelope {
  op: 'frame';
  from: string;
  serial: number;
  text: string;
}

/** From a socket's node to the node of its lobby: the socket has ended; `lost` unless closed by its client. */
export interface LeaveEnvelope {
  op: 'leave';
  from: string;
  serial: number;
  lost: boolean;
}

/** From a lobby's node to a socket's node: send this frame to the socket. */
export interface SendEnvelope {
  op: 'send';
  from: string;
  serial: number;
  text: string;
}

/** From a lobby's node to a socket's node: close the socket. */
export interface CloseEnvelope {
  op: 'close';
  from: string;
  serial: number;
  code: number;
  reason: string;
  cause: CloseCause;
}

export type Envelope = JoinEnvelope | FrameEnvelope | LeaveEnvelope | SendEnvelope | CloseEnvelope;

// A node id is a UUID; a frame is bounded by maxFrameBytes where the socket is, a close reason by 123 bytes.
const NODE_ID_PATTERN = /^[0-9a-f-]{36}$/;
export const MAX_CLOSE_REASON_LENGTH = 123;
const MAX_SERIAL = Number.MAX_SAFE_INTEGER;

/** The envelope `text` holds, or null when it is not one (then dropped and counted). */
export function readEnvelope(text: string, maxTextLength: number): Envelope | null {
  if (text.length > maxTextLength + 512) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const envelope = value as Record<string, unknown>;
  const { op, from, serial } = envelope;
  if (typeof from !== 'string' || !NODE_ID_PATTERN.test(from)) return null;
  if (typeof serial !== 'number' || !Number.isInteger(serial) || serial < 1 || serial > MAX_SERIAL) return null;
  switch (op) {
    case 'join':
    case 'frame':
    case 'send':
      return typeof envelope.text === 'string' && envelope.text.length <= maxTextLength ? (envelope as unknown as Envelope) : null;
    case 'leave':
      return typeof envelope.lost === 'boolean' ? (envelope as unknown as Envelope) : null;
    case 'close': {
      const { code, reason, cause } = envelope;
      const fits = typeof code === 'number' && Number.isInteger(code) && code >= 1000 && code <= 4999;
      return fits && CLOSE_CAUSES.includes(cause as CloseCause) && typeof reason === 'string' && reason.length <= MAX_CLOSE_REASON_LENGTH ? (envelope as unknown as Envelope) : null;
    }
    default:
      return null;
  }
}
