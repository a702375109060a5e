import { isIP } from 'node:net';

/** Fields of an ICE candidate line after `candidate:` (RFC 8839 §5.1). */
const CANDIDATE_TRANSPORT_FIELD = 2;
const CANDIDATE_ADDRESS_FIELD = 4;
const CANDIDATE_PORT_FIELD = 5;
const CANDIDATE_TYPE_FIELD = 7;
const CANDIDATE_MIN_FIELDS = 8;

/** SDP lines that would give the remote a path around the conditioner, or end trickling early. */
const SDP_CANDIDATE_LINE = /^a=(candidate|end-of-candidates)/;

/** A UDP endpoint. */
export interface Endpoint {
  address: string;
  port: number;
}

/** The parts of an ICE candidate line the conditioner needs. */
export interface ParsedCandidate extends Endpoint {
  /** Lower-case transport, `udp` or `tcp`. */
  transport: string;
  /** Candidate type: `host`, `srflx`, `prflx` or `relay`. */
  type: string;
}

function splitCandidate(candidate: string): { prefix: string; fields: string[] } | undefined {
  const match = /^(a=)?candidate:(.*)$/.exec(candidate.trim());
  if (!match) return undefined;
  const fields = (match[2] ?? '').split(' ');
  return fields.length < CANDIDATE_MIN_FIELDS ? undefined : { prefix: match[1] ?? '', fields };
}

/**
 * Reads transport, address, port and type from a `candidate:` or `a=candidate:` line; undefined
 * when the line is not a candidate.
 */
export function parseCandidate(candidate: string): ParsedCandidate | undefined {
  const parts = splitCandidate(candidate);
  if (!parts) return undefined;
  const port = Number(parts.fields[CANDIDATE_PORT_FIELD]);
  if (!Number.isInteger(port) || port <= 0 || port > 0xffff) return undefined;
  return {
    transport: (parts.fields[CANDIDATE_TRANSPORT_FIELD] ?? '').toLowerCase(),
    address: parts.fields[CANDIDATE_ADDRESS_FIELD] ?? '',
    port,
    type: parts.fields[CANDIDATE_TYPE_FIELD] ?? '',
  };
}

/**
 * Points a candidate line at `endpoint`; everything else (foundation, priority, type,
 * extensions) is kept. Throws on a line that is not a candidate.
 */
export function rewriteCandidate(candidate: string, endpoint: Endpoint): string {
  const parts = splitCandidate(candidate);
  if (!parts) throw new Error(`not an ICE candidate line: ${candidate}`);
  const fields = [...parts.fields];
  fields[CANDIDATE_ADDRESS_FIELD] = endpoint.address;
  fields[CANDIDATE_PORT_FIELD] = String(endpoint.port);
  return `${parts.prefix}candidate:${fields.join(' ')}`;
}

/** Drops candidate lines from an SDP, keeping every other line. */
export function stripSdpCandidates(sdp: string): string {
  return sdp
    .split('\r\n')
    .filter((line) => !SDP_CANDIDATE_LINE.test(line))
    .join('\r\n');
}

/** The candidate lines of an SDP, each with the media id of its section (its index when it has none). */
export function sdpCandidates(sdp: string): Array<{ mid: string; candidate: string }> {
  const found: Array<{ mid: string; candidate: string }> = [];
  sdp.split(/^m=/m).slice(1).forEach((section, index) => {
    const mid = /^a=mid:(\S+)/m.exec(section)?.[1] ?? String(index);
    for (const match of section.matchAll(/^a=(candidate:[^\r\n]*)/gm)) found.push({ mid, candidate: match[1] ?? '' });
  });
  return found;
}

/** Whether a UDP datagram can go between a socket on `local` and `remote`: same family, and loopback only to loopback. */
export function canRelayBetween(local: string, remote: string): boolean {
  const family = isIP(local);
  return family !== 0 && isIP(remote) === family && isLoopback(local) === isLoopback(remote);
}

function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1';
}
