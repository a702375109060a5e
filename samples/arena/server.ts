// `npm run arena`: starts the arena's signaling server, page server and game server on loopback,
// prints the page to open and the command that adds bots, and runs until SIGINT or SIGTERM.
import { fileURLToPath } from 'node:url';
import { cleanup } from '../../src/index.js';
import { ArenaServer } from './arena-server.js';
import { integerOption, readOptions } from './command-line.js';

const USAGE = `usage: npm run arena [-- --http-port <port>] [--signaling-port <port>]

  --http-port <port>        the page server's port (default 8080; 0 picks a free one)
  --signaling-port <port>   the signaling server's port (default 9080; 0 picks a free one)`;

const MAX_PORT = 65_535;
const EXIT_FAILURE = 1;

const options = readOptions(USAGE, process.argv.slice(2), { 'http-port': '8080', 'signaling-port': '9080' });
const httpPort = integerOption(USAGE, 'http-port', options['http-port'], 0, MAX_PORT);
const signalingPort = integerOption(USAGE, 'signaling-port', options['signaling-port'], 0, MAX_PORT);
// The build puts the browser client beside this file (samples/arena/dist/public/).
const publicDir = fileURLToPath(new URL('./public/', import.meta.url));

try {
  const arena = await ArenaServer.start({ httpPort, signalingPort, publicDir, log: (line) => console.log(line) });
  console.log(`arena: signaling server at ${arena.signalingUrl}, lobby ${arena.lobby}`);
  console.log(`arena: open ${arena.pageUrl}`);
  console.log(`arena: add bots with: npm run arena:bots -- --count 3 --url ${arena.signalingUrl} --lobby ${arena.lobby}`);
  const stop = async (): Promise<void> => {
    await arena.close();
    cleanup();
    console.log('arena: stopped');
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
} catch (error) {
  console.error(`arena: cannot start: ${error instanceof Error ? error.message : String(error)}`);
  cleanup();
  process.exitCode = EXIT_FAILURE;
}
