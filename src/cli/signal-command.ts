// `rtcmesh signal`: a SignalingServer in the foreground, one log line per lobby event, until
// SIGINT or SIGTERM. Every option of the server is an option of the command.
import { once } from 'node:events';
import { SignalingServer, type SignalingServerOptions } from '../index.js';
import { SERVER_OPTION_SPECS, type ServerOptionSpec } from '../signaling/server-options.js';
import { choiceOption, EXIT_FAILURE, integerOption, type Output, parseOptions, positiveNumberOption, UsageError } from './command-line.js';

const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;
const SWITCH_VALUES = ['on', 'off'] as const;
// Every option is optional, and parseOptions reads an undefined default as "required": a NUL,
// which no argument can hold (argv strings are C strings), stands for "not given".
const NOT_GIVEN = '\u0000';
// How far option names are indented and their help starts, in `--help`.
const OPTION_INDENT = '  ';
const HELP_COLUMN = 34;

/** `maxSockets` → `max-sockets`. */
function flagOf(spec: ServerOptionSpec): string {
  return spec.key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}

function defaultText(spec: ServerOptionSpec): string {
  if (spec.kind === 'boolean') return spec.default === true ? 'on' : 'off';
  if (spec.default === null) return 'none';
  return String(spec.default);
}

function defaultOf(key: keyof SignalingServerOptions): unknown {
  return SERVER_OPTION_SPECS.find((spec) => spec.key === key)?.default;
}

function valueName(spec: ServerOptionSpec): string {
  switch (spec.kind) {
    case 'address':
      return '<address>';
    case 'optional-text':
      return spec.key === 'turnSecret' ? '<secret>' : '<url>';
    case 'boolean':
      return 'on|off';
    case 'rate':
      return '<n/s>';
    default:
      return spec.key.endsWith('Ms') ? '<ms>' : spec.key.toLowerCase().endsWith('port') ? '<port>' : '<n>';
  }
}

/** The environment variable that holds the secret signing session tokens. */
const TOKEN_SECRET_VARIABLE = 'RTCMESH_TOKEN_SECRET';
/** The environment variable that may hold the TURN secret instead of `--turn-secret`, which `ps` shows. */
const TURN_SECRET_VARIABLE = 'RTCMESH_TURN_SECRET';

/** `rtcmesh signal --help`: every option of the server, with its default and what it protects. */
export const SIGNAL_USAGE = [
  'usage: rtcmesh signal [options]',
  '',
  "Runs a lobby signaling server (the protocol of Godot's webrtc_signaling demo) until SIGINT or",
  'SIGTERM. Prints its URL, then one line per lobby opened, sealed or closed, per peer joining or',
  'leaving, and per socket it closes for a fault. GET /health answers {"sockets", "lobbies"};',
  'GET /metrics answers in the Prometheus text format.',
  '',
  'options:',
  ...SERVER_OPTION_SPECS.map((spec) => {
    const name = `${OPTION_INDENT}--${flagOf(spec)} ${valueName(spec)}`;
    return `${name.padEnd(HELP_COLUMN - 1)} ${spec.help} (default ${defaultText(spec)})`;
  }),
  `${`${OPTION_INDENT}-h, --help`.padEnd(HELP_COLUMN - 1)} show this text`,
  '',
  `Session tokens (with --reconnect-grace-ms) are signed with ${TOKEN_SECRET_VARIABLE} from the`,
  'environment (16 characters or more; random per process when unset). The TURN secret may come',
  `from ${TURN_SECRET_VARIABLE} instead of --turn-secret, which other users of the machine can see in ps.`,
].join('\n');

/** The server options the command line gives, each checked; the rest keep their defaults. */
function serverOptions(args: string[]): SignalingServerOptions {
  const values = parseOptions(args, Object.fromEntries(SERVER_OPTION_SPECS.map((spec) => [flagOf(spec), NOT_GIVEN])));
  const options: Record<string, unknown> = {};
  for (const spec of SERVER_OPTION_SPECS) {
    const flag = flagOf(spec);
    const text = values[flag] ?? NOT_GIVEN;
    if (text === NOT_GIVEN) continue;
    options[spec.key] = optionValue(spec, flag, text);
  }
  // From the environment, not the command line, where every user of the machine could read it.
  const secret = process.env[TOKEN_SECRET_VARIABLE];
  if (secret !== undefined && secret !== '') options.tokenSecret = secret;
  const turnSecret = process.env[TURN_SECRET_VARIABLE];
  if (options.turnSecret === undefined && turnSecret !== undefined && turnSecret !== '') options.turnSecret = turnSecret;
  return options as SignalingServerOptions;
}

function optionValue(spec: ServerOptionSpec, flag: string, text: string): string | number | boolean {
  switch (spec.kind) {
    case 'optional-text':
    case 'address':
      return text;
    case 'boolean':
      return choiceOption(flag, text, SWITCH_VALUES) === 'on';
    case 'rate':
      return positiveNumberOption(flag, text, Number.MAX_SAFE_INTEGER);
    case 'integer':
    case 'optional-port':
      return integerOption(flag, text, spec.min ?? 0, spec.max ?? Number.MAX_SAFE_INTEGER);
  }
}

/**
 * Runs `rtcmesh signal [options]` (see {@link SIGNAL_USAGE}): prints the server's URL (and the
 * metrics URL), then a line for each lobby opened, sealed or closed, each member joining or
 * leaving, and each socket the server closes for a fault. On SIGINT or SIGTERM it closes the
 * server and resolves with 0.
 * @throws UsageError for a bad option.
 */
export async function runSignalCommand(args: string[], output: Output): Promise<number> {
  const options = serverOptions(args);
  let server: SignalingServer;
  try {
    server = new SignalingServer(options);
  } catch (error) {
    // Ranges the command line cannot check alone (an empty --host) are the server's to refuse.
    throw new UsageError(errorText(error));
  }
  logServerEvents(server, output);
  // Listen for the stop signals before the server is up, so that an early one still closes it.
  const stopped = firstStopSignal();
  try {
    const { url } = await server.listen();
    output.log(`listening on ${url}`);
    if (server.metricsUrl !== null) output.log(`metrics on ${server.metricsUrl}`);
  } catch (error) {
    stopped.cancel();
    const { host = defaultOf('host'), port = defaultOf('port') } = options;
    output.error(`rtcmesh signal: cannot listen on ${host}:${port}: ${errorText(error)}`);
    return EXIT_FAILURE;
  }
  const signal = await stopped.signal;
  // The handlers are gone now: a second Ctrl-C during the close kills the process, as users expect.
  output.log(`${signal}: closing every socket and stopping`);
  await server.close();
  return 0;
}

function logServerEvents(server: SignalingServer, output: Output): void {
  server.on('lobbyCreated', (lobby, mesh) => output.log(`lobby ${lobby} opened (${mesh ? 'mesh' : 'server'} mode)`));
  server.on('peerJoined', (lobby, peerId) => output.log(`lobby ${lobby}: peer ${peerId} joined`));
  server.on('peerLeft', (lobby, peerId) => output.log(`lobby ${lobby}: peer ${peerId} left`));
  server.on('lobbySealed', (lobby) => output.log(`lobby ${lobby} sealed`));
  server.on('lobbyClosed', (lobby, reason) => output.log(`lobby ${lobby} closed: ${reason}`));
  // A client closing its own socket is routine; the server closing one (a fault, a limit, the
  // end of a seal, the shutdown) is worth a line.
  server.on('socketClosed', (info) => {
    if (info.byServer) output.log(`socket ${info.socket} from ${info.remoteAddress} closed: ${info.code} ${info.reason}`);
  });
  server.on('cluster', (reachable, nodeId) =>
    output.log(reachable ? `cluster node ${nodeId} joined through Redis` : `cluster node ${nodeId}: Redis unreachable, refusing joins until it returns`),
  );
  server.on('error', (error) => output.error(`rtcmesh signal: ${errorText(error)}`));
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The first of SIGINT or SIGTERM; `cancel()` stops listening for them. */
function firstStopSignal(): { signal: Promise<string>; cancel(): void } {
  const controller = new AbortController();
  const signal = Promise.race(
    STOP_SIGNALS.map((name) => once(process, name, { signal: controller.signal }).then(() => name)),
  );
  // The race's losers reject with AbortError once cancelled; that is the point of cancelling.
  signal.catch(() => undefined);
  const cancel = (): void => controller.abort();
  void signal.then(cancel, cancel);
  return { signal, cancel };
}
