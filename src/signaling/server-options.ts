// The options of the signaling server: one table holding each option's default, range and what
// it protects, from which the defaults, the checks and `rtcmesh signal --help` all come.
import { RtcError } from '../transport/errors.js';
import { parseIceServers } from '../transport/ice-servers.js';
import {
  BOOLEAN,
  type OptionRule,
  type OptionSpecs,
  POSITIVE_NUMBER,
  checkOption,
  integerRule,
  nonEmptyStringRule,
  orNullRule,
  resolveOptions,
} from '../transport/option-resolver.js';

/** Limits and addresses of a {@link SignalingServer}; every field is optional. */
export interface SignalingServerOptions {
  /** Address to bind. Default `'127.0.0.1'`: loopback only; pass `'0.0.0.0'` to serve a network. */
  host?: string;
  /** TCP port, also serving `GET /health` and (unless `metricsPort` is set) `GET /metrics`. Default 9080 (the Godot demo's); 0 picks a free port. */
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
  /** Sustained messages per second one socket may send (token bucket refill rate). Default 100. */
  messagesPerSecond?: number;
  /**
   * Messages one socket may send at once before the rate applies (token bucket size); one more
   * closes it with 4000 "rate limit exceeded". Default 1024: a member joining a full mesh lobby of
   * 64 sends 63 × (a description and up to 12 candidates) = 819 messages at once.
   */
  messageBurst?: number;
  /**
   * Bytes queued to one socket (sent and not yet taken by the network) past which the members
   * relaying to it stop being read until the queue drains. Default 262144.
   */
  maxSendQueueBytes?: number;
  /** Serve `GET /metrics` in the Prometheus text format. Default true. */
  metrics?: boolean;
  /** Address the separate metrics port binds (with `metricsPort`). Default `'127.0.0.1'`. */
  metricsHost?: string;
  /**
   * A port of its own for `GET /metrics` (0 picks a free one), which the public port then does
   * not serve. Default null: `/metrics` on the public port.
   */
  metricsPort?: number | null;
  /**
   * Milliseconds a member's seat is kept after its socket is lost (not closed by the client
   * itself), for it to come back with its session token and the same id. While this is above 0,
   * the server issues tokens, announces a departure only at the end of the grace, and keeps every
   * member on signaling after a seal (a sealed lobby admits token holders only). Default 0: off,
   * the Godot demo's behaviour.
   */
  reconnectGraceMs?: number;
  /** Milliseconds a session token is valid after it is issued. Default 86400000 (a day). */
  tokenLifetimeMs?: number;
  /**
   * The secret (16 characters or more) that signs session tokens; give every node the same to
   * accept each other's. Default: random per server. Not on the command line (`ps` would show
   * it): `rtcmesh signal` reads it from the environment, `RTCMESH_TOKEN_SECRET`.
   */
  tokenSecret?: string;
  /**
   * A Redis URL (`redis://host:6379`): run this server as one node of a cluster whose nodes share
   * their lobbies through that Redis, so that the members of a lobby may sit on different nodes.
   * Default null: one node, everything in memory.
   */
  redis?: string | null;
  /**
   * The secret the TURN server shares (coturn's `static-auth-secret`): with `turnUrl`, every
   * admitted member gets time-limited TURN credentials with its ID. Default null: no TURN.
   */
  turnSecret?: string | null;
  /** The TURN server's URLs, comma-separated (`turn:turn.example.com:3478?transport=udp`). Default null. */
  turnUrl?: string | null;
  /** Seconds TURN credentials are valid; clients fetch fresh ones before they expire. Default 3600. */
  turnTtl?: number;
}

/** The options of a server with every default filled in and every value checked. */
export type ServerSettings = Required<Omit<SignalingServerOptions, 'tokenSecret'>> & Pick<SignalingServerOptions, 'tokenSecret'>;

/** The shortest token secret accepted: a short one could be guessed from tokens. */
const MIN_SECRET_LENGTH = 16;

/** What kind of value an option takes, for its check and for the command line. */
export type ServerOptionKind = 'address' | 'integer' | 'rate' | 'boolean' | 'optional-port' | 'optional-text';

/** One option of the server: its default, its range, and what it is for. */
export interface ServerOptionSpec {
  key: keyof SignalingServerOptions;
  kind: ServerOptionKind;
  /** The default, as the server applies it. */
  default: string | number | boolean | null;
  /** Smallest and largest value of an integer option. */
  min?: number;
  max?: number;
  /** What the option sets and what it protects, one sentence. */
  help: string;
}

/**
 * Frames up to twice the limit still reach the parser and are refused with 4000 and a reason;
 * the WebSocket layer (websocket-frames.ts) refuses larger ones itself (1009) from their header,
 * before buffering them, which bounds memory per socket.
 */
export const WS_PAYLOAD_HEADROOM_FACTOR = 2;
const MAX_PORT = 65_535;
// setTimeout fires at once, with a warning, for anything longer.
const MAX_TIMER_MS = 0x7fff_ffff;
const MAX_COUNT = Number.MAX_SAFE_INTEGER;

/** Every option of {@link SignalingServerOptions}, in the order `--help` lists them. */
export const SERVER_OPTION_SPECS: readonly ServerOptionSpec[] = [
  { key: 'host', kind: 'address', default: '127.0.0.1', help: 'address to bind; 0.0.0.0 serves every interface' },
  { key: 'port', kind: 'integer', default: 9080, min: 0, max: MAX_PORT, help: 'TCP port of the WebSockets and GET /health, 0 for any free one' },
  { key: 'maxSockets', kind: 'integer', default: 4096, min: 1, max: MAX_COUNT, help: 'connected sockets at most; bounds memory and file descriptors' },
  { key: 'maxLobbies', kind: 'integer', default: 1024, min: 1, max: MAX_COUNT, help: 'open lobbies at most; bounds what sockets can hold without others joining' },
  { key: 'maxLobbySize', kind: 'integer', default: 64, min: 1, max: MAX_COUNT, help: 'members of one lobby at most, host included; bounds the introductions one join sends' },
  { key: 'maxFrameBytes', kind: 'integer', default: 65_536, min: 1, max: Math.floor(MAX_COUNT / WS_PAYLOAD_HEADROOM_FACTOR), help: 'largest frame in bytes; bounds the memory one message takes' },
  { key: 'joinTimeoutMs', kind: 'integer', default: 1000, min: 1, max: MAX_TIMER_MS, help: 'ms a socket has to JOIN; frees sockets opened and left idle' },
  { key: 'pingIntervalMs', kind: 'integer', default: 10_000, min: 1, max: MAX_TIMER_MS, help: 'ms between pings; a socket that missed the last one is dropped (dead peers)' },
  { key: 'sealCloseMs', kind: 'integer', default: 10_000, min: 1, max: MAX_TIMER_MS, help: 'ms from a seal to the close of every member with 1000' },
  { key: 'messagesPerSecond', kind: 'rate', default: 100, help: 'messages a second one socket may send, sustained; bounds the CPU one socket takes' },
  { key: 'messageBurst', kind: 'integer', default: 1024, min: 1, max: MAX_COUNT, help: 'messages one socket may send at once (a join into a full mesh of 64 sends 819)' },
  { key: 'maxSendQueueBytes', kind: 'integer', default: 262_144, min: 1, max: MAX_COUNT, help: 'bytes queued to a slow reader before its senders are paused; bounds memory per socket' },
  { key: 'metrics', kind: 'boolean', default: true, help: 'serve GET /metrics (Prometheus text format)' },
  { key: 'metricsHost', kind: 'address', default: '127.0.0.1', help: 'address of the metrics port, with --metrics-port' },
  { key: 'metricsPort', kind: 'optional-port', default: null, min: 0, max: MAX_PORT, help: 'serve /metrics on this port instead of the public one (0: any free port)' },
  { key: 'reconnectGraceMs', kind: 'integer', default: 0, min: 0, max: MAX_TIMER_MS, help: 'ms a lost member keeps its seat, to rejoin with its session token (0: off)' },
  { key: 'tokenLifetimeMs', kind: 'integer', default: 86_400_000, min: 1, max: MAX_COUNT, help: 'ms a session token stays valid after it is issued' },
  { key: 'redis', kind: 'optional-text', default: null, help: 'redis://host:port shared by every node of a cluster (none: one node, in memory)' },
  { key: 'turnSecret', kind: 'optional-text', default: null, help: "the TURN server's static-auth-secret, to hand members TURN credentials" },
  { key: 'turnUrl', kind: 'optional-text', default: null, help: 'TURN URLs handed with the credentials, comma-separated' },
  { key: 'turnTtl', kind: 'integer', default: 3600, min: 60, max: 31_536_000, help: 'seconds TURN credentials stay valid' },
];

const OWNER = 'SignalingServerOptions';

/** What the error of a text option shows as an example. */
const TEXT_EXAMPLES: Partial<Record<keyof SignalingServerOptions, string>> = {
  redis: '"redis://127.0.0.1:6379"',
  turnSecret: "coturn's static-auth-secret",
  turnUrl: '"turn:turn.example.com:3478?transport=udp"',
};

/** The rule a spec's kind and range make. */
function ruleOf(spec: ServerOptionSpec): OptionRule {
  switch (spec.kind) {
    case 'address':
      return nonEmptyStringRule('"127.0.0.1"');
    case 'boolean':
      return BOOLEAN;
    case 'rate':
      return POSITIVE_NUMBER;
    case 'integer':
      return integerRule(spec.min ?? 0, spec.max);
    case 'optional-port':
      return orNullRule(integerRule(spec.min ?? 0, spec.max));
    case 'optional-text':
      return orNullRule(nonEmptyStringRule(TEXT_EXAMPLES[spec.key] ?? '"…"'));
  }
}

const SERVER_SPECS = Object.fromEntries(
  SERVER_OPTION_SPECS.map((spec) => [spec.key, { default: spec.default, rule: ruleOf(spec) }]),
) as unknown as OptionSpecs<Omit<ServerSettings, 'tokenSecret'>>;

const TOKEN_SECRET = {
  rule: { expected: `a string of at least ${MIN_SECRET_LENGTH} characters`, accepts: (value: unknown) => typeof value === 'string' && value.length >= MIN_SECRET_LENGTH },
  advice: 'the same on every node that accepts the others\' tokens',
};

/**
 * Fills in the defaults and checks every value; the options may come from a command line or a
 * JSON file, so the types are checked too.
 * @throws RtcError `ERR_INVALID_PARAMETER` when an option is out of range.
 */
export function resolveServerOptions(options: SignalingServerOptions): ServerSettings {
  const resolved: ServerSettings = resolveOptions(OWNER, SERVER_SPECS, options);
  if (options.tokenSecret !== undefined) resolved.tokenSecret = checkOption(OWNER, 'tokenSecret', TOKEN_SECRET, options.tokenSecret) as string;
  checkRedis(resolved.redis);
  checkTurn(resolved.turnSecret, resolved.turnUrl);
  return resolved;
}

function checkRedis(url: string | null): void {
  if (url !== null && !/^rediss?:\/\/./.test(url)) {
    throw new RtcError('ERR_INVALID_PARAMETER', 'SignalingServerOptions.redis must be a URL such as "redis://127.0.0.1:6379", or null');
  }
}

function checkTurn(secret: string | null, urls: string | null): void {
  if ((secret === null) !== (urls === null)) {
    throw new RtcError('ERR_INVALID_PARAMETER', 'SignalingServerOptions.turnSecret and turnUrl go together: set both, or neither');
  }
  if (urls === null) return;
  const list = turnUrls(urls);
  if (list.some((url) => !/^turns?:/.test(url))) {
    throw new RtcError('ERR_INVALID_PARAMETER', 'SignalingServerOptions.turnUrl must list turn: or turns: URLs, comma-separated');
  }
  // The clients' own check, so that a URL they would refuse is refused here, at start.
  parseIceServers([{ urls: list, username: 'u', credential: 'c' }]);
}

/** The URLs of a `turnUrl` option. */
export function turnUrls(option: string): string[] {
  return option.split(',').map((url) => url.trim()).filter((url) => url !== '');
}
