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

/**
 * Makes `count` peers (ids 1..count) with an API each and, unless the links are left to the test
 * (`manualLinks`), waits for the topology to form.
 */
export async function makeApiGroup(count: number, options: GroupOptions & { api?: MultiplayerAPIOptions } = {}): Promise<ApiGroup> {
  const group = makeGroup(count, options);
  const apis = group.members.map((member) => {
    const api = new MultiplayerAPI(options.api);
    api.multiplayerPeer = member.peer;
    return api;
  });
  const made: ApiGroup = {
    group,
    apis,
    api: (id) => apis[id - 1]!,
    pollUntil: (done, what, timeoutMs) => pollUntil(apis, done, what, timeoutMs),
    close: () => group.close(),
  };
  const expected = (id: number): number => (options.topology === 'server' ? (id === 1 ? count - 1 : 1) : count - 1);
  if (!options.manualLinks) await made.pollUntil(() => apis.every((api, n) => api.getPeers().length === expected(n + 1)), 'every peer to connect');
  return made;
}
