// `rtcmesh signal`: a SignalingServer in the foreground, one log line per lobby event, until
// SIGINT or SIGTERM.
import { once } from 'node:events';
import { SignalingServer } from '../index.js';
import { EXIT_FAILURE, integerOption, type Output, parseOptions, UsageError } from './command-line.js';
import { LOOPBACK_HOST } from './loopback.js';

// Loopback by default, so that nothing is exposed by accident.
const DEFAULT_HOST = LOOPBACK_HOST;
// The Godot webrtc_signaling demo's port.
const DEFAULT_PORT = 9080;
const MAX_PORT = 65_535;
const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * Runs `rtcmesh signal [--host h] [--port p]`: prints the server's URL, then a line for each
 * lobby opened, sealed or closed, each member joining or leaving, and each socket the server
 * closes for a fault. On SIGINT or SIGTERM it closes the server and resolves with 0.
 * @throws UsageError for a bad option.
 */
export async function runSignalCommand(args: string[], output: Output): Promise<number> {
  const values = parseOptions(args, { host: DEFAULT_HOST, port: String(DEFAULT_PORT) });
  const host = values.host;
  if (host === '') throw new UsageError('--host takes an address, such as 127.0.0.1 or 0.0.0.0');
  const port = integerOption('port', values.port, 0, MAX_PORT);
  const server = new SignalingServer({ host, port });
  logServerEvents(server, output);
  // Listen for the stop signals before the server is up, so that an early one still closes it.
  const stopped = firstStopSignal();
  try {
    const { url } = await server.listen();
    output.log(`listening on ${url}`);
  } catch (error) {
    stopped.cancel();
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
