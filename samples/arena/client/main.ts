// The arena's browser client: joins the lobby named in the page's query string as a client of
// the arena server, sends the player's controls every tick, and draws the players and shots the
// server spawns, at each frame interpolated at the spawner's render time (state arrives 20 times
// a second), with an overlay of the link's round-trip time and drops.
//
// Bundled with the package's browser entry, 'rtcmesh/browser'.
import { MultiplayerAPI, SignalingClient, TARGET_PEER_SERVER } from 'rtcmesh/browser';
import { registerArena } from '../shared/protocol.js';
import { TICK_HZ, WORLD_HEIGHT, WORLD_WIDTH } from '../shared/rules.js';
import { type PlayerState, type ShotState, addPlayers, addShots } from '../shared/entities.js';
import { startTicker } from '../shared/ticker.js';
import type { ArenaView } from './arena-view.js';
import { Controls } from './controls.js';
import { Renderer } from './renderer.js';

// The overlay changes four times a second: readable, and cheap.
const OVERLAY_EVERY_TICKS = TICK_HZ / 4;
const EVENTS_SHOWN = 4;
// The signaling server's port when the query string does not name one: `npm run arena`'s default.
const DEFAULT_SIGNALING_PORT = 9080;

const query = new URLSearchParams(location.search);
const lobby = query.get('lobby') ?? '';
const signalingUrl = query.get('signaling') ?? `ws://${location.hostname}:${DEFAULT_SIGNALING_PORT}`;

const canvas = document.querySelector<HTMLCanvasElement>('#arena')!;
const overlay = document.querySelector<HTMLElement>('#overlay')!;
canvas.width = WORLD_WIDTH;
canvas.height = WORLD_HEIGHT;
const renderer = new Renderer(canvas.getContext('2d')!);
const controls = new Controls(canvas);
const scores = new Map<number, number>();
const events: string[] = [];
const seen = new Set<number>();
let farewell = '';

const view: ArenaView = { phase: 'connecting', id: 0, seenPlayerIds: [], players: [], lastSnapshotAt: 0, snapshots: 0, rttMs: null, packetsDropped: 0 };
window.arena = view;

const signaling = new SignalingClient({ url: signalingUrl, lobby, mesh: false });
const api = new MultiplayerAPI();
api.multiplayerPeer = signaling.multiplayerPeer;
const arena = registerArena(api, {
  joined: (id) => {
    if (!scores.has(id)) scores.set(id, 0);
    note(id === api.getUniqueId() ? 'you joined' : `peer ${id} joined`);
  },
  left: (id) => {
    scores.delete(id);
    note(`peer ${id} left`);
  },
  hit: (shooter, target) => note(`peer ${shooter} hit peer ${target}`),
  score: (id, points) => scores.set(id, points),
});
const players = addPlayers(api);
const shots = addShots(api);
players.on('spawned', (entity) => {
  seen.add(entity.target.id);
  view.seenPlayerIds = [...seen];
  entity.synchronizer.on('synchronized', () => {
    view.lastSnapshotAt = performance.now();
    view.snapshots++;
  });
});
api.on('connectedToServer', () => (view.phase = 'playing'));
api.on('serverDisconnected', () => leave('the server went away'));
api.on('connectionFailed', () => leave('could not connect to the server'));
signaling.on('disconnected', (code, reason) => {
  // Once playing, the game outlives signaling.
  if (view.phase === 'connecting') leave(`the signaling server closed the connection (${code} ${reason || 'no reason'})`);
});
if (lobby === '') leave('no lobby in the address: open the page the arena server printed');
else signaling.connect();

let ticksSinceOverlay = OVERLAY_EVERY_TICKS;
startTicker((ticks) => {
  api.poll();
  view.id = api.getUniqueId();
  if (view.phase === 'playing') arena.rpcId(TARGET_PEER_SERVER, 'input', controls.dx, controls.dy, controls.fire);
  ticksSinceOverlay += ticks;
  if (ticksSinceOverlay >= OVERLAY_EVERY_TICKS) {
    ticksSinceOverlay = 0;
    updateOverlay();
  }
});

requestAnimationFrame(function draw() {
  const at = players.getRenderTime();
  const frame = {
    players: players.getEntities().map(({ target, synchronizer }): PlayerState => ({
      id: target.id,
      x: synchronizer.interpolate('x', at) as number,
      y: synchronizer.interpolate('y', at) as number,
      facing: synchronizer.interpolate('facing', at) as number,
    })),
    shots: shots.getEntities().map(({ target, synchronizer }): ShotState => ({
      owner: target.owner,
      x: synchronizer.interpolate('x', at) as number,
      y: synchronizer.interpolate('y', at) as number,
    })),
  };
  renderer.draw({ frame, self: view.id, scores, events });
  view.players = frame.players.map(({ id, x, y }) => ({ id, x, y, score: scores.get(id) ?? 0 }));
  requestAnimationFrame(draw);
});

function note(event: string): void {
  events.push(event);
  if (events.length > EVENTS_SHOWN) events.shift();
}

function leave(reason: string): void {
  view.phase = 'disconnected';
  farewell = reason;
  updateOverlay();
}

/** The overlay: who this page is, and the link to the server from `getPeerStats(1)`. */
function updateOverlay(): void {
  const peer = signaling.multiplayerPeer;
  if (peer.hasPeer(TARGET_PEER_SERVER)) {
    const stats = peer.getPeerStats(TARGET_PEER_SERVER);
    view.rttMs = Number.isNaN(stats.rttMs) ? null : stats.rttMs;
    view.packetsDropped = Object.values(stats.dropped).reduce((sum, count) => sum + count, 0);
  }
  const rtt = view.rttMs === null ? 'rtt …' : `rtt ${view.rttMs.toFixed(1)} ms`;
  const link = `${rtt} · dropped ${view.packetsDropped} · ${view.players.length} players`;
  const status = { connecting: `joining lobby ${lobby}…`, playing: `peer ${view.id} · ${link}`, disconnected: farewell }[view.phase];
  overlay.textContent = status;
}
