import { MultiplayerAPI, type MultiplayerAPIOptions } from '../../src/index.js';
import { type Group, type GroupOptions, makeGroup } from './mesh.js';
import { pollUntil } from './poll.js';

/** A group of peers, each under a MultiplayerAPI, connected as the topology says. */
export interface ApiGroup {
  group: Group;
  apis: MultiplayerAPI[];
  api(id: number): MultiplayerAPI;
  /** Polls every API (which polls its peer) until `done()`. */
  pollUntil(done: () => boolean, what: string, timeoutMs?: number): Promise<void>;
  close(): void;
}

export interface ApiGroupOptions extends GroupOptions {
  api?: MultiplayerAPIOptions;
  /** Runs on each API, its multiplayer peer set, before it polls: an authCallback, serverRelay, another peer. */
  prepare?: (api: MultiplayerAPI, id: number) => void;
  /** Whether to wait for every peer to see every other (default true, unless `manualLinks`). */
  wait?: boolean;
}

/**
 * Makes `count` peers (ids 1..count) with an API each and, unless the links are left to the test
 * (`manualLinks`) or `wait` is false, waits until each sees the others: in the server topology,
 * a client sees the other clients through the server where both relay.
 */
export async function makeApiGroup(count: number, options: ApiGroupOptions = {}): Promise<ApiGroup> {
  const group = makeGroup(count, options);
  const apis = group.members.map((member) => {
    const api = new MultiplayerAPI(options.api);
    api.multiplayerPeer = member.peer;
    options.prepare?.(api, member.id);
    return api;
  });
  const made: ApiGroup = {
    group,
    apis,
    api: (id) => apis[id - 1]!,
    pollUntil: (done, what, timeoutMs) => pollUntil(apis, done, what, timeoutMs),
    close: () => group.close(),
  };
  const relaying = (id: number): boolean => apis[0]!.serverRelay && apis[id - 1]!.serverRelay;
  const expected = (id: number): number => (options.topology === 'server' && id !== 1 && !relaying(id) ? 1 : count - 1);
  if (!options.manualLinks && options.wait !== false) await made.pollUntil(() => apis.every((api, n) => api.getPeers().length === expected(n + 1)), 'every peer to connect');
  return made;
}
