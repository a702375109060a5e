// One mesh peer in a process of its own, for fault tests that kill a peer outright. Plain
// JavaScript on the built package ('rtcmesh', i.e. dist/), so that no TypeScript runner starts
// with it. It plays as a game does: one poll() a tick, then read, then send to everyone; it tells
// the test what happens as one JSON line per event on stdout:
//
//   {"event":"joined","id":1,"lobby":"…"}            the server confirmed the lobby
//   {"event":"peerConnected","id":…}
//   {"event":"linkFailed","id":…}                    a peer dropped before it ever connected
//   {"event":"peerDisconnected","id":…,"at":…,"longestTickGapMs":…}
//                                                    at: Date.now(), to compare with a kill; the
//                                                    longest gap between two ticks in the 10 s before
//   {"event":"signalingClosed","code":…,"reason":…}  the mesh outlives it
//   {"event":"traffic","receivedFrom":{"id":count}}  packets received so far, by sender
//
// Usage: node mesh-peer-process.mjs --url ws://127.0.0.1:PORT [--lobby NAME] [--keepalive-timeout-ms MS]
// An empty lobby (the default) creates one. SIGTERM, or the end of stdin (the parent is gone),
// closes everything and exits with 0.
import { parseArgs } from 'node:util';
import { ConnectionStatus, SignalingClient, WebRTCMultiplayerPeer, cleanup } from 'rtcmesh';
import { print, runLoop } from './child-loop.mjs';

// Within the 5–10 ms of a game loop, and enough traffic for a keepalive to have company.
const TICK_MS = 8;
const TRAFFIC_REPORT_MS = 250;
const LOOPBACK_HOST = '127.0.0.1';
// Only its arrival is counted: one byte will do.
const TICK_PACKET = Uint8Array.of(1);
const EXIT_USAGE = 2;
// A loaded machine runs ticks late, and a peer's drop comes as late: the test allows for the
// longest gap of the ticks since the kill, which this span covers.
const TICK_HISTORY_MS = 10_000;

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    lobby: { type: 'string', default: '' },
    'keepalive-timeout-ms': { type: 'string' },
  },
});
const keepaliveTimeoutMs = values['keepalive-timeout-ms'] === undefined ? undefined : Number(values['keepalive-timeout-ms']);
if (values.url === undefined || Number.isNaN(keepaliveTimeoutMs)) {
  process.stderr.write('usage: mesh-peer-process.mjs --url ws://HOST:PORT [--lobby NAME] [--keepalive-timeout-ms MS]\n');
  process.exit(EXIT_USAGE);
}

const multiplayerPeer = new WebRTCMultiplayerPeer(keepaliveTimeoutMs === undefined ? {} : { keepaliveTimeoutMs });
const client = new SignalingClient({
  url: values.url,
  lobby: values.lobby,
  mesh: true,
  peerConfig: { bindAddress: LOOPBACK_HOST },
  multiplayerPeer,
});
const receivedFrom = new Map();
// Peers added and not connected yet. The multiplayer peer drops a link that fails to form
// without an event: the only sign of one is a peer gone from getPeers() while still in here.
const forming = new Set();

client.on('lobbyJoined', (lobby) => print({ event: 'joined', id: client.getUniqueId(), lobby }));
client.on('disconnected', (code, reason) => print({ event: 'signalingClosed', code, reason }));
multiplayerPeer.on('peerConnected', (id) => {
  forming.delete(id);
  print({ event: 'peerConnected', id });
});
/** [when, milliseconds since the tick before] of each tick in the last TICK_HISTORY_MS. */
const tickGaps = [];
let lastTickAt = Date.now();

multiplayerPeer.on('peerDisconnected', (id) => {
  const longestTickGapMs = Math.max(...tickGaps.map(([, gap]) => gap));
  print({ event: 'peerDisconnected', id, at: Date.now(), longestTickGapMs });
});

let nextReportAt = 0;

function step() {
  const tickAt = Date.now();
  tickGaps.push([tickAt, tickAt - lastTickAt]);
  lastTickAt = tickAt;
  while (tickGaps[0][0] < tickAt - TICK_HISTORY_MS) tickGaps.shift();
  multiplayerPeer.poll();
  reportFailedLinks();
  while (multiplayerPeer.getAvailablePacketCount() > 0) {
    const from = multiplayerPeer.getPacketPeer();
    multiplayerPeer.getPacket();
    receivedFrom.set(from, (receivedFrom.get(from) ?? 0) + 1);
  }
  // Connected from the server's ID on (a mesh needs no handshake); before that putPacket throws.
  if (multiplayerPeer.getConnectionStatus() === ConnectionStatus.Connected) multiplayerPeer.putPacket(TICK_PACKET);
  const now = Date.now();
  if (now >= nextReportAt) {
    nextReportAt = now + TRAFFIC_REPORT_MS;
    print({ event: 'traffic', receivedFrom: Object.fromEntries(receivedFrom) });
  }
}

function reportFailedLinks() {
  const peers = multiplayerPeer.getPeers();
  for (const [id, { connected }] of peers) if (!connected) forming.add(id);
  for (const id of forming) {
    if (peers.has(id)) continue;
    forming.delete(id);
    print({ event: 'linkFailed', id });
  }
}

client.connect();
runLoop(TICK_MS, step, () => {
  client.close();
  multiplayerPeer.close();
  cleanup();
});
