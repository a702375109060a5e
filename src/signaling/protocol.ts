// The wire format of the lobby signaling protocol (docs/wire-format.md, section 5: Godot's
// webrtc_signaling demo). Browser-safe: no Node imports, so the client can share it.
import { RtcError } from '../transport/errors.js';

/**
 * The message types of the signaling protocol, with the numeric values of the Godot demo's
 * `Message` enum (`JOIN`, `ID`, `PEER_CONNECT`, …).
 */
export enum MessageType {
  /** Client → server: join or create a lobby; server → client: the lobby name, confirming it. */
  Join = 0,
  /** Server → client: your id in the lobby; `data` "true" means mesh mode. */
  Id = 1,
  /** Server → client: the peer `id` is in the lobby with you. */
  PeerConnect = 2,
  /** Server → client: the peer `id` left the lobby. */
  PeerDisconnect = 3,
  /** SDP offer; the client names the destination in `id`, the server rewrites it to the source. */
  Offer = 4,
  /** SDP answer, with the same rewriting of `id` as an offer. */
  Answer = 5,
  /** ICE candidate (see {@link encodeCandidate}), with the same rewriting of `id` as an offer. */
  Candidate = 6,
  /** Client → server: the host seals the lobby; server → clients: the lobby is sealed. */
  Seal = 7,
}

/** One signaling message, as carried in a JSON text frame `{"type", "id", "data"}`. */
export interface SignalingMessage {
  /** What the message is. */
  type: MessageType;
  /** A peer id, a mode flag (JOIN) or 0, depending on `type`; always a non-negative integer. */
  id: number;
  /** The payload (a lobby name, an SDP, a candidate); `""` when there is none. */
  data: string;
  /**
   * rtcmesh: a session token. On ID, the one the server issues (resumption on); on JOIN, the one
   * a returning member presents to take its id back. Godot's demo client ignores the field.
   */
  token?: string;
  /**
   * rtcmesh: on a JOIN with a token, the member kept its state (the same process): its peers
   * resume their sessions with it. On PEER_CONNECT, the peer resumes a session this side holds.
   */
  resume?: boolean;
  /**
   * rtcmesh: on ID, time-limited credentials of the operator's TURN server (the TURN REST API's),
   * given to admitted members only when the server has TURN on. Godot's demo client ignores the field.
   */
  turn?: TurnCredentials;
}

/** Credentials for a TURN server, valid until `username`'s leading Unix time (seconds). */
export interface TurnCredentials {
  /** The TURN server's URLs, e.g. `turn:turn.example.com:3478?transport=udp`. */
  urls: string[];
  /** `expiry:peerId`, expiry in seconds since the Unix epoch. */
  username: string;
  /** Base64 of HMAC-SHA1 over `username`, keyed with the secret the TURN server shares. */
  credential: string;
}

/** The `data` of an ID message a member sends to ask for fresh TURN credentials. */
export const TURN_REFRESH_DATA = 'turn';

// Bounds of what a TURN field may hold; real ones are far smaller.
const MAX_TURN_URLS = 8;
const MAX_TURN_TEXT_LENGTH = 512;

/** The result of {@link parseFrame}: a message, or the close code and reason the fault calls for. */
export type ParseResult =
  | { ok: true; message: SignalingMessage }
  | { ok: false; code: typeof CLOSE_PROTOCOL_ERROR; reason: string };

/** Close code of every protocol error, with a human-readable reason (docs/wire-format.md, section 5, Frames). */
export const CLOSE_PROTOCOL_ERROR = 4000;

/** Close code the server uses once a sealed lobby's grace period ends. */
export const CLOSE_SEAL_COMPLETE = 1000;

/** Close reason that goes with {@link CLOSE_SEAL_COMPLETE}, as the Godot demo sends it. */
export const SEAL_COMPLETE_REASON = 'Seal complete';

/** The host's id in every lobby. */
export const HOST_PEER_ID = 1;

/** The largest peer id (2^31 − 1): ids are positive int32 values, as in Godot. */
export const MAX_PEER_ID = 0x7fff_ffff;

/** How many message types there are: every `type` is below it. */
export const MESSAGE_TYPE_COUNT = 8;

/**
 * Turns one text frame into a {@link SignalingMessage}, or into the protocol error that closes
 * the sender: a frame over `maxFrameBytes` (UTF-8), JSON that does not parse or is not an
 * object, a `type` or `id` that is missing, not a number, negative or not finite, or an unknown
 * `type`. `type` and `id` are floored and a `data` that is not a string reads as `""`, as in the
 * Godot demo. Extra fields are ignored: rtcmesh's extensions ride in them.
 */
export function parseFrame(text: string, maxFrameBytes: number): ParseResult {
  const frameBytes = utf8ByteLength(text);
  if (frameBytes > maxFrameBytes) {
    return protocolError(`frame of ${frameBytes} bytes exceeds the limit of ${maxFrameBytes}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return protocolError('frame is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return protocolError('frame is not a JSON object');
  }
  const type = readCount(value, 'type');
  if (typeof type === 'string') return protocolError(type);
  const id = readCount(value, 'id');
  if (typeof id === 'string') return protocolError(id);
  if (type >= MESSAGE_TYPE_COUNT) return protocolError(`unknown message type ${type}`);
  const data = Object.hasOwn(value, 'data') ? (value as { data: unknown }).data : '';
  const message: SignalingMessage = { type: type as MessageType, id, data: typeof data === 'string' ? data : '' };
  const { token, resume, turn } = value as { token?: unknown; resume?: unknown; turn?: unknown };
  if (typeof token === 'string') message.token = token;
  if (resume === true) message.resume = true;
  if (turn !== undefined && isTurnCredentials(turn)) message.turn = { urls: [...turn.urls], username: turn.username, credential: turn.credential };
  return { ok: true, message };
}

/** Whether a field from the network is well-formed TURN credentials, within bounds. */
function isTurnCredentials(value: unknown): value is TurnCredentials {
  if (typeof value !== 'object' || value === null) return false;
  const { urls, username, credential } = value as Record<string, unknown>;
  const isText = (text: unknown): text is string => typeof text === 'string' && text !== '' && text.length <= MAX_TURN_TEXT_LENGTH;
  return Array.isArray(urls) && urls.length > 0 && urls.length <= MAX_TURN_URLS && urls.every(isText) && isText(username) && isText(credential);
}

/** Serializes a message into the JSON text frame that {@link parseFrame} reads. */
export function encodeMessage(message: SignalingMessage): string {
  const { type, id, data, token, resume, turn } = message;
  if (token === undefined && resume !== true && turn === undefined) return JSON.stringify({ type, id, data });
  return JSON.stringify({
    type,
    id,
    data,
    ...(token === undefined ? {} : { token }),
    ...(resume === true ? { resume } : {}),
    ...(turn === undefined ? {} : { turn }),
  });
}

/** One ICE candidate as carried in a CANDIDATE message's `data`. */
export interface CandidateData {
  /** The media stream id (`sdpMid`) the candidate belongs to. */
  mid: string;
  /** The index of the m-line the candidate belongs to (`sdpMLineIndex`). */
  mlineIndex: number;
  /** The candidate line, `candidate:…` (an `a=` prefix is accepted). */
  sdp: string;
}

// A candidate line is about 100–200 characters; anything far longer is not one.
const MAX_CANDIDATE_SDP_LENGTH = 1024;
// The mid is an SDP token (RFC 5888); real ones are "0", "1", "data", "audio".
const MID_PATTERN = /^[\x21-\x7e]{1,64}$/;
// No leading zeros and at most 5 digits: Godot writes the index with "%d".
const MLINE_INDEX_PATTERN = /^(?:0|[1-9][0-9]{0,4})$/;
const MAX_MLINE_INDEX = 0xffff;
// Printable ASCII only: the text goes to the WebRTC engine, which must see no control bytes.
const CANDIDATE_SDP_PATTERN = /^(?:a=)?candidate:[\x20-\x7e]+$/;

/**
 * Builds a CANDIDATE message's `data`, `"\n" + mid + "\n" + mlineIndex + "\n" + sdp`, the
 * format of Godot's demo client.
 * @throws RtcError `ERR_INVALID_PARAMETER` when the parts would not read back through
 * {@link parseCandidate} (a newline in `mid`, a negative index, an `sdp` that is not a candidate
 * line).
 */
export function encodeCandidate(mid: string, mlineIndex: number, sdp: string): string {
  const data = `\n${mid}\n${mlineIndex}\n${sdp}`;
  if (parseCandidate(data) === null) {
    throw new RtcError(
      'ERR_INVALID_PARAMETER',
      'encodeCandidate() needs a mid of 1–64 printable characters, an m-line index in 0…65535 ' +
        `and a "candidate:" line of at most ${MAX_CANDIDATE_SDP_LENGTH} printable characters`,
    );
  }
  return data;
}

/**
 * Reads a CANDIDATE message's `data` (see {@link encodeCandidate}), with or without its leading
 * line feed, as Godot's demo client reads it. Returns null on anything malformed, so that no
 * unchecked text from signaling reaches the WebRTC engine.
 */
export function parseCandidate(data: string): CandidateData | null {
  const parts = (data.startsWith('\n') ? data.slice(1) : data).split('\n');
  if (parts.length !== 3) return null;
  const [mid = '', index = '', sdp = ''] = parts;
  if (!MID_PATTERN.test(mid) || !MLINE_INDEX_PATTERN.test(index)) return null;
  const mlineIndex = Number(index);
  if (mlineIndex > MAX_MLINE_INDEX) return null;
  if (sdp.length > MAX_CANDIDATE_SDP_LENGTH || !CANDIDATE_SDP_PATTERN.test(sdp)) return null;
  return { mid, mlineIndex, sdp };
}

function protocolError(reason: string): ParseResult {
  return { ok: false, code: CLOSE_PROTOCOL_ERROR, reason };
}

/** Reads a non-negative count field, floored; a string is the fault that names it. */
function readCount(frame: object, field: 'type' | 'id'): number | string {
  if (!Object.hasOwn(frame, field)) return `${field} is missing`;
  const value = (frame as Record<typeof field, unknown>)[field];
  if (typeof value !== 'number') return `${field} is not a number`;
  // JSON.parse reads 1e999 as Infinity.
  if (!Number.isFinite(value)) return `${field} is not finite`;
  const count = Math.floor(value);
  if (count < 0) return `${field} is negative`;
  return count;
}

/** The UTF-8 size of a string, counted without allocating an encoded copy. */
function utf8ByteLength(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit < 0xdc00 && i + 1 < text.length) {
      // A surrogate pair is one 4-byte code point; a lone surrogate encodes as 3 bytes (U+FFFD).
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next < 0xe000) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}
