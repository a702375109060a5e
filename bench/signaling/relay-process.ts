/**
 * The relay under test, in a process of its own so that its CPU is its own: the reference relay
 * (the table's "raw" side) or rtcmesh's SignalingServer with its rate limits raised.
 */
import { SignalingServer } from '../../src/index.js';
import { answer, exitWithParent, openFileLimit } from './child.js';
import { startReferenceRelay } from './reference-relay.js';
import { LOOPBACK_HOST } from '../../src/cli/loopback.js';

export const RELAY_PROCESS_FLAG = '--signaling-relay';

// Every socket and lobby of the largest run fits; the load is one socket's sustained flood.
const UNLIMITED = 1_000_000_000;
// Setting up 20,000 sockets on a loaded machine can delay a JOIN past the default second.
const SETUP_JOIN_TIMEOUT_MS = 60_000;

/** Runs the relay of `side` until the parent kills the process. */
export async function runRelayProcess(side: string): Promise<void> {
  let port: number;
  if (side === 'raw') {
    port = (await startReferenceRelay()).port;
  } else if (side === 'rtcmesh') {
    const server = new SignalingServer({
      host: LOOPBACK_HOST,
      port: 0,
      maxSockets: UNLIMITED,
      maxLobbies: UNLIMITED,
      messagesPerSecond: UNLIMITED,
      messageBurst: UNLIMITED,
      joinTimeoutMs: SETUP_JOIN_TIMEOUT_MS,
    });
    port = (await server.listen()).port;
  } else throw new Error(`${RELAY_PROCESS_FLAG} takes raw or rtcmesh, not ${side}`);
  // The parent ends this process when it is done with it; exiting, rather than dying of the
  // signal, lets --cpu-prof write its profile.
  process.once('SIGTERM', () => process.exit(0));
  exitWithParent();
  answer({ kind: 'listening', port, openFiles: openFileLimit() });
}
