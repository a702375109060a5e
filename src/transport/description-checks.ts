import { RtcError } from './errors.js';

/** The longest session description accepted; a data-only SDP is about 1 KiB. */
export const MAX_SDP_LENGTH = 65536;
/** The longest candidate line accepted (RFC 8839 grammar with every extension fits in far less). */
export const MAX_CANDIDATE_LENGTH = 1024;
/** The longest media id (`a=mid`) accepted. */
export const MAX_MID_LENGTH = 64;
/** The highest m-line index accepted. */
export const MAX_MLINE_INDEX = 1023;

// Printable ASCII and the line ends of SDP: anything else is not a session description.
const SDP_CHARACTERS = /^[\x20-\x7e\r\n\t]*$/;
// foundation, component, transport, priority, address, port, "typ", type: RFC 8839 section 5.1.
const CANDIDATE = /^(?:a=)?candidate:[!-~]{1,32} \d{1,3} (?:udp|tcp) \d{1,10} [0-9A-Za-z.:_-]{1,255} \d{1,5} typ (?:host|srflx|prflx|relay)(?: [ -~]*)?$/i;
const MID = /^[!-~]*$/;

/** Checks a session description from the remote before it reaches the engine; throws ERR_INVALID_PARAMETER. */
export function checkSessionDescription(type: unknown, sdp: unknown): asserts type is 'offer' | 'answer' {
  if (type !== 'offer' && type !== 'answer') {
    throw new RtcError('ERR_INVALID_PARAMETER', `description type must be "offer" or "answer", not ${describe(type)}.`);
  }
  if (typeof sdp !== 'string' || sdp.length === 0 || sdp.length > MAX_SDP_LENGTH) {
    throw new RtcError('ERR_INVALID_PARAMETER', `SDP must be a non-empty string of at most ${MAX_SDP_LENGTH} characters.`);
  }
  if (!sdp.startsWith('v=0') || !SDP_CHARACTERS.test(sdp)) {
    throw new RtcError('ERR_INVALID_PARAMETER', 'SDP must start with "v=0" and hold printable ASCII lines only.');
  }
  if (!/^m=application /m.test(sdp)) {
    throw new RtcError('ERR_INVALID_PARAMETER', 'SDP has no "m=application" section: rtcmesh carries data channels only.');
  }
  if (!/^a=ice-ufrag:/m.test(sdp) || !/^a=fingerprint:/m.test(sdp)) {
    throw new RtcError('ERR_INVALID_PARAMETER', 'SDP lacks "a=ice-ufrag" or "a=fingerprint": it cannot set up ICE and DTLS.');
  }
}

/** Checks an ICE candidate from the remote before it reaches the engine; throws ERR_INVALID_PARAMETER. */
export function checkCandidate(media: unknown, index: unknown, name: unknown): void {
  if (typeof media !== 'string' || media.length > MAX_MID_LENGTH || !MID.test(media)) {
    throw new RtcError('ERR_INVALID_PARAMETER', `candidate media (mid) must be printable text of at most ${MAX_MID_LENGTH} characters.`);
  }
  if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index > MAX_MLINE_INDEX) {
    throw new RtcError('ERR_INVALID_PARAMETER', `candidate m-line index must be an integer 0 to ${MAX_MLINE_INDEX}.`);
  }
  if (typeof name !== 'string' || name.length > MAX_CANDIDATE_LENGTH || !CANDIDATE.test(name)) {
    throw new RtcError(
      'ERR_INVALID_PARAMETER',
      'candidate must be one "candidate:<foundation> <component> udp|tcp <priority> <address> <port> typ <type>" line.',
    );
  }
}

/** The media ids of an SDP's m-sections, in order. */
export function mediaIds(sdp: string): string[] {
  const ids: string[] = [];
  for (const section of sdp.split(/^m=/m).slice(1)) {
    ids.push(/^a=mid:(\S+)/m.exec(section)?.[1] ?? String(ids.length));
  }
  return ids;
}

function describe(value: unknown): string {
  return typeof value === 'string' ? `"${value.slice(0, 32)}"` : typeof value;
}
