// One client of a server-topology game in a process of its own, for tests that kill it and start
// it again with its stored session token. Plain JavaScript on the built package ('rtcmesh', i.e.
// dist/). It holds a spawner at /world (the server's entities: { n }) and tells the test, as one
// JSON line per event on stdout:
//
//   {"event":"joined","id":…,"token":"…"}     the server confirmed the lobby (token: to store)
//   {"event":"entities","count":…}             entities alive here, each time the count changes
//
// Usage: node game-client-process.mjs --url ws://HOST:PORT --lobby NAME [--token TOKEN]
// SIGTERM, or the end of stdin (the parent is gone), closes everything and exits with 0.
import { parseArgs } from 'node:util';
import { MultiplayerAPI, SignalingClient, WebRTCMultiplayerPeer, cleanup } from 'rtcmesh';
import { print, runLoop } from './child-loop.mjs';

const TICK_MS = 8;
const { values } = parseArgs({
  options: { url: { type: 'string' }, lobby: { type: 'string' }, token: { type: 'string', default: '' } },
});
if (values.url === undefined || values.lobby === undefined) {
  process.stderr.write('usage: game-client-process.mjs --url ws://HOST:PORT --lobby NAME [--token TOKEN]\n');
  process.exit(2);
}

const multiplayerPeer = new WebRTCMultiplayerPeer({ reconnectGraceMs: 10_000, keepaliveTimeoutMs: 2000 });
const client = new SignalingClient({
  url: values.url,
  lobby: values.lobby,
  mesh: false,
  peerConfig: { bindAddress: '127.0.0.1' },
  multiplayerPeer,
  token: values.token,
});
const api = new MultiplayerAPI();
api.multiplayerPeer = multiplayerPeer;
const spawner = api.addSpawner('/world', { spawnFunction: (data) => ({ n: data.n }) });
let reported = -1;

client.on('lobbyJoined', () => print({ event: 'joined', id: client.getUniqueId(), token: client.getSessionToken() }));
client.connect();
runLoop(
  TICK_MS,
  () => {
    api.poll();
    const count = spawner.getEntities().length;
    if (count !== reported) {
      reported = count;
      print({ event: 'entities', count });
    }
  },
  () => {
    client.close();
    multiplayerPeer.close();
    cleanup();
  },
);
