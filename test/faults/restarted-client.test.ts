// A client process that dies comes back as itself: within the grace, a new process that
// presents the session token the old one stored gets the same id in the same lobby, and the
// server's replication sends it the world again. Without it, the peer goes at the end of the grace.
import { describe, expect, it } from 'vitest';
import { MultiplayerAPI, SignalingClient, SignalingServer, WebRTCMultiplayerPeer } from '../../src/index.js';
import { type Track, cleanupAfterAll, closeWithTest } from '../support/close-after-each.js';
import { EventProcess } from '../support/event-process.js';
import { pollUntil } from '../support/poll.js';
import { LOOPBACK_CONFIG } from '../support/transport-pair.js';

const GRACE_MS = 4000;
// A new node process starts and joins in about a second here, in several on a loaded machine: a
// restart must come within the grace, whose end is not what that test watches.
const RESTART_GRACE_MS = 15_000;
const WAIT_MS = 20_000;
const ENTITIES = 3;

/** One line of game-client-process.mjs. */
type ClientEvent = { event: 'joined'; id: number; token: string } | { event: 'entities'; count: number };

cleanupAfterAll();

/** The server side of the game: the lobby host, spawning ENTITIES entities at /world. */
interface Host {
  api: MultiplayerAPI;
  lobby: string;
  events: string[];
  url: string;
}

async function startGame(track: Track, graceMs = GRACE_MS): Promise<Host> {
  const server = new SignalingServer({ port: 0, reconnectGraceMs: graceMs });
  const { url } = await server.listen();
  track(server);
  const peer = new WebRTCMultiplayerPeer({ reconnectGraceMs: graceMs, keepaliveTimeoutMs: 2000 });
  const client = new SignalingClient({ url, mesh: false, multiplayerPeer: peer, peerConfig: LOOPBACK_CONFIG });
  const api = new MultiplayerAPI();
  api.multiplayerPeer = peer;
  const spawner = api.addSpawner('/world', { spawnFunction: (data: { n: number }) => ({ n: data.n }) });
  const events: string[] = [];
  for (const name of ['peerConnected', 'peerDisconnected', 'peerReconnecting'] as const) api.on(name, (id) => events.push(`${name} ${id}`));
  track({ close: () => (client.close(), peer.close()) });
  client.connect();
  await pollUntil([api], () => client.getLobby() !== '', 'the lobby', WAIT_MS);
  for (let n = 0; n < ENTITIES; n++) spawner.spawn({ n });
  return { api, lobby: client.getLobby(), events, url };
}

function startClient(track: Track, host: Host, token?: string): EventProcess<ClientEvent> {
  const child = new EventProcess<ClientEvent>('./game-client-process.mjs', ['--url', host.url, '--lobby', host.lobby, ...(token ? ['--token', token] : [])]);
  track({
    close: async () => {
      child.kill('SIGKILL');
      await child.exited;
    },
  });
  return child;
}

/** Polls the host while `promise` is pending: the host is a game loop too. */
async function polling<T>(host: Host, promise: Promise<T>): Promise<T> {
  let settled = false;
  const result = promise.finally(() => (settled = true));
  await pollUntil([host.api], () => settled, 'the child', WAIT_MS + 5000);
  return result;
}

// Each test has a signaling server and processes of its own, and mostly waits on them: they run side by side.
describe.concurrent('a client process killed mid-match', () => {
  it('drops a client killed with SIGKILL once, at the end of the grace; the match goes on', async (context) => {
    const track = closeWithTest(context);
    const host = await startGame(track);
    const child = startClient(track, host);
    const { id } = await polling(host, child.waitFor('joined', 'joined', WAIT_MS));
    await polling(host, child.waitFor('entities', 'the world', WAIT_MS, (event) => event.count === ENTITIES));
    child.kill('SIGKILL');
    await pollUntil([host.api], () => host.events.includes(`peerDisconnected ${id}`), 'the end of the grace', WAIT_MS);
    expect(host.events).toEqual([`peerConnected ${id}`, `peerReconnecting ${id}`, `peerDisconnected ${id}`]);
    // The match goes on: a new client joins and gets the world.
    const next = startClient(track, host);
    await polling(host, next.waitFor('entities', 'the world', WAIT_MS, (event) => event.count === ENTITIES));
  }, 60_000);

  it('a client restarted with its stored token within the grace gets the same id, and its state rebuilt', async (context) => {
    const track = closeWithTest(context);
    const host = await startGame(track, RESTART_GRACE_MS);
    const child = startClient(track, host);
    const joined = await polling(host, child.waitFor('joined', 'joined', WAIT_MS));
    await polling(host, child.waitFor('entities', 'the world', WAIT_MS, (event) => event.count === ENTITIES));
    child.kill('SIGKILL');
    await child.exited;
    const restarted = startClient(track, host, joined.token);
    const again = await polling(host, restarted.waitFor('joined', 'joined', WAIT_MS));
    expect(again.id).toBe(joined.id);
    expect(again.token).not.toBe(joined.token);
    await polling(host, restarted.waitFor('entities', 'the world rebuilt', WAIT_MS, (event) => event.count === ENTITIES));
    await pollUntil([host.api], () => host.api.getPeers().includes(joined.id), 'the restarted client admitted', WAIT_MS);
    // Its old session ends as it comes back: what was in flight is gone, and the host says so.
    expect(host.events.filter((event) => !event.startsWith('peerReconnecting'))).toEqual([
      `peerConnected ${joined.id}`,
      `peerDisconnected ${joined.id}`,
      `peerConnected ${joined.id}`,
    ]);
  }, 60_000);
});
