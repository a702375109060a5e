// `npm run arena`: starts the arena's signaling server, page server and game server on loopback,
// prints the page to open and the command that adds bots, and runs until SIGINT or SIGTERM.
import { fileURLToPath } from 'node:url';
import { CONDITION_FLAGS, CONDITION_FLAG_HELP, NetworkConditioner, PeerConnection, cleanup, describeConditions, hasConditionFlags, readConditionFlags } from 'rtcmesh';
import { ArenaServer } from './arena-server.js';
import { orUsage, readArguments, wholeNumber } from './command-line.js';

const USAGE = `usage: npm run arena [-- --http-port <port>] [--signaling-port <port>] [--loss <percent> ...]

  --http-port <port>        the page server's port (default 8080; 0 picks a free one)
  --signaling-port <port>   the signaling server's port (default 9080; 0 picks a free one)

With any of these, every connection of the game server crosses a network conditioner that
applies them both ways (what the server sends and what reaches it):
${CONDITION_FLAG_HELP.replace(/^/gm, '  ')}`;

const EXIT_FAILURE = 1;

const options = readArguments(USAGE, process.argv.slice(2), ['http-port', 'signaling-port', ...CONDITION_FLAGS]);
const link = orUsage(USAGE, () => (hasConditionFlags(options) ? readConditionFlags(options) : undefined));
// The servers refuse a port out of range when they start.
const httpPort = wholeNumber(USAGE, 'http-port', options['http-port'], 8080);
const signalingPort = wholeNumber(USAGE, 'signaling-port', options['signaling-port'], 9080);
// The build puts the browser client beside this file (samples/arena/dist/public/).
const publicDir = fileURLToPath(new URL('./public/', import.meta.url));

// The process's default backend, so that every connection the server's signaling client makes is on it.
const conditioner = link && new NetworkConditioner({ conditions: link.conditions, ...(link.seed === undefined ? {} : { seed: link.seed }) });
if (conditioner) PeerConnection.setDefaultBackend(conditioner.backend);

try {
  const arena = await ArenaServer.start({ httpPort, signalingPort, publicDir, log: (line) => console.log(line) });
  console.log(`arena: signaling server at ${arena.signalingUrl}, lobby ${arena.lobby}`);
  console.log(`arena: open ${arena.pageUrl}`);
  if (link) console.log(`arena: the server's connections are conditioned both ways: ${describeConditions(link.conditions)}, seed ${link.seed ?? 1}`);
  console.log(`arena: add bots with: npm run arena:bots -- --count 3 --url ${arena.signalingUrl} --lobby ${arena.lobby}`);
  const stop = async (): Promise<void> => {
    await arena.close();
    if (conditioner) {
      for (const direction of ['outgoing', 'incoming'] as const) {
        const { received, dropped, droppedByBandwidth, duplicated, reordered } = conditioner.getCounters(direction);
        console.log(`arena: conditioner, ${direction}: ${received} datagrams, ${dropped} lost, ${droppedByBandwidth} over the bandwidth cap, ${duplicated} duplicated, ${reordered} reordered`);
      }
      await conditioner.close();
    }
    cleanup();
    console.log('arena: stopped');
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
} catch (error) {
  console.error(`arena: cannot start: ${error instanceof Error ? error.message : String(error)}`);
  await conditioner?.close();
  cleanup();
  process.exitCode = EXIT_FAILURE;
}
