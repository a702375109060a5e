// The options of the signaling server, their defaults and their checks.
import { RtcError } from '../transport/errors.js';

/** Limits and addresses of a {@link SignalingServer}; every field is optional. */
export interface SignalingServerOptions {
  /** Address to bind. Default `'127.0.0.1'`: loopback only; pass `'0.0.0.0'` to serve a network. */
  host?: string;
  /** TCP port, also serving `GET /health`. Default 9080 (the Godot demo's); 0 picks a free port. */
  port?: number;
  /** Connected WebSockets at most; the next one is closed with 4000. Default 4096. */
  maxSockets?: number;
  /** Open lobbies at most; creating one more closes the creator with 4000. Default 1024. */
  maxLobbies?: number;
  /**
   * Members of one lobby at most, the host included; one more joiner is closed with 4000.
   * Default 64: a mesh of 64 already holds 2016 WebRTC connections.
   */
  maxLobbySize?: number;
  /** Largest text frame in UTF-8 bytes; a larger one closes its sender with 4000. Default 65536. */
  maxFrameBytes?: number;
  /** Time a socket has to send its JOIN before it is closed with 4000. Default 1000 ms. */
  joinTimeoutMs?: number;
  /** Interval between pings; a socket that has not answered the previous one is dropped. Default 10000 ms. */
  pingIntervalMs?: number;
  /** Time from a seal to the close of every member with 1000 "Seal complete". Default 10000 ms. */
  sealCloseMs?: number;
  /** Sustained messages per second one socket may send (token bucket refill rate). Default 50. */
  messagesPerSecond?: number;
  /**
   * Messages one socket may send at once before the rate applies (token bucket size); one more
   * closes it with 4000 "rate limit exceeded". Default 200: a member joining a mesh of 30 sends
   * an offer and a few candidates to each.
   */
  messageBurst?: number;
  /**
   * Milliseconds a member's seat is kept after its socket is lost (not closed by the client
   * itself), for it to come back with its session token and the same id. While this is above 0,
   * the server issues tokens, announces a departure only at the end of the grace, and keeps every
   * member on signaling after a seal (a sealed lobby admits token holders only). Default 0: off,
   * the Godot demo's behaviour.
   */
  reconnectGraceMs?: number;
  /** The secret that signs session tokens; give every node the same to accept each other's. Default: random per server. */
  tokenSecret?: string;
  /** Milliseconds a session token is valid after it is issued. Default 86400000 (a day). */
  tokenLifetimeMs?: number;
}

/** The options of a server with every default filled in and every value checked. */
export type ServerSettings = Required<Omit<SignalingServerOptions, 'tokenSecret'>> & Pick<SignalingServerOptions, 'tokenSecret'>;

const DEFAULT_OPTIONS: ServerSettings = {
  host: '127.0.0.1',
  port: 9080,
  maxSockets: 4096,
  maxLobbies: 1024,
  maxLobbySize: 64,
  maxFrameBytes: 65_536,
  joinTimeoutMs: 1000,
  pingIntervalMs: 10_000,
  sealCloseMs: 10_000,
  messagesPerSecond: 50,
  messageBurst: 200,
  reconnectGraceMs: 0,
  tokenLifetimeMs: 86_400_000,
};

/**
 * Frames up to twice the limit still reach parseFrame and are refused with 4000 and a reason;
 * ws refuses larger ones itself (1009) before buffering them, which bounds memory per socket.
 */
export const WS_PAYLOAD_HEADROOM_FACTOR = 2;
const MAX_PORT = 65_535;
// setTimeout fires at once, with a warning, for anything longer.
const MAX_TIMER_MS = 0x7fff_ffff;

/**
 * Fills in the defaults and checks every value.
 * @throws RtcError `ERR_INVALID_PARAMETER` when an option is out of range.
 */
export function resolveServerOptions(options: SignalingServerOptions): ServerSettings {
  const resolved: ServerSettings = {
    host: options.host ?? DEFAULT_OPTIONS.host,
    port: options.port ?? DEFAULT_OPTIONS.port,
    maxSockets: options.maxSockets ?? DEFAULT_OPTIONS.maxSockets,
    maxLobbies: options.maxLobbies ?? DEFAULT_OPTIONS.maxLobbies,
    maxLobbySize: options.maxLobbySize ?? DEFAULT_OPTIONS.maxLobbySize,
    maxFrameBytes: options.maxFrameBytes ?? DEFAULT_OPTIONS.maxFrameBytes,
    joinTimeoutMs: options.joinTimeoutMs ?? DEFAULT_OPTIONS.joinTimeoutMs,
    pingIntervalMs: options.pingIntervalMs ?? DEFAULT_OPTIONS.pingIntervalMs,
    sealCloseMs: options.sealCloseMs ?? DEFAULT_OPTIONS.sealCloseMs,
    messagesPerSecond: options.messagesPerSecond ?? DEFAULT_OPTIONS.messagesPerSecond,
    messageBurst: options.messageBurst ?? DEFAULT_OPTIONS.messageBurst,
    ...sessionOptions(options),
  };
  // The options may come from a command line or a JSON file: check the types too.
  if (typeof resolved.host !== 'string' || resolved.host === '') {
    throw invalidOption('host', 'a non-empty address such as "127.0.0.1"');
  }
  requireInteger(resolved, 'port', 0, MAX_PORT);
  requireInteger(resolved, 'maxSockets', 1, Number.MAX_SAFE_INTEGER);
  requireInteger(resolved, 'maxLobbies', 1, Number.MAX_SAFE_INTEGER);
  requireInteger(resolved, 'maxLobbySize', 1, Number.MAX_SAFE_INTEGER);
  const maxFrameBytes = Math.floor(Number.MAX_SAFE_INTEGER / WS_PAYLOAD_HEADROOM_FACTOR);
  requireInteger(resolved, 'maxFrameBytes', 1, maxFrameBytes);
  requireInteger(resolved, 'joinTimeoutMs', 1, MAX_TIMER_MS);
  requireInteger(resolved, 'pingIntervalMs', 1, MAX_TIMER_MS);
  requireInteger(resolved, 'sealCloseMs', 1, MAX_TIMER_MS);
  requireInteger(resolved, 'messageBurst', 1, Number.MAX_SAFE_INTEGER);
  requireInteger(resolved, 'reconnectGraceMs', 0, MAX_TIMER_MS);
  requireInteger(resolved, 'tokenLifetimeMs', 1, Number.MAX_SAFE_INTEGER);
  const secret: unknown = resolved.tokenSecret;
  if (secret !== undefined && (typeof secret !== 'string' || secret.length < 16)) {
    throw invalidOption('tokenSecret', 'a string of at least 16 characters');
  }
  const rate: unknown = resolved.messagesPerSecond;
  if (typeof rate !== 'number' || !Number.isFinite(rate) || rate <= 0) {
    throw invalidOption('messagesPerSecond', 'a positive number');
  }
  return resolved;
}

/** The options of session resumption, with their defaults. */
function sessionOptions(options: SignalingServerOptions): Pick<ServerSettings, 'reconnectGraceMs' | 'tokenSecret' | 'tokenLifetimeMs'> {
  const { reconnectGraceMs = DEFAULT_OPTIONS.reconnectGraceMs, tokenSecret, tokenLifetimeMs = DEFAULT_OPTIONS.tokenLifetimeMs } = options;
  return { reconnectGraceMs, tokenSecret, tokenLifetimeMs };
}

type IntegerOption = Exclude<keyof SignalingServerOptions, 'host' | 'messagesPerSecond' | 'tokenSecret'>;

function requireInteger(options: ServerSettings, key: IntegerOption, min: number, max: number): void {
  const value: unknown = options[key];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidOption(key, `an integer in ${min}…${max}`);
  }
}

function invalidOption(key: keyof SignalingServerOptions, expected: string): RtcError {
  return new RtcError('ERR_INVALID_PARAMETER', `SignalingServerOptions.${key} must be ${expected}`);
}
