// The cluster's state in Redis: which node holds which lobby (names unique across nodes, their
// count bounded cluster-wide by one atomic script), which nodes are alive (a key each, with a TTL
// its heartbeat refreshes), and a pub/sub channel per node. ioredis reconnects by itself; while it
// is away the directory says so (`available`), and every call fails fast instead of queueing.
import { randomUUID } from 'node:crypto';
import type { Redis as RedisClient, RedisOptions } from 'ioredis';

/** Between two heartbeats of a node. */
export const HEARTBEAT_MS = 1000;
/** A node whose heartbeat key is older than this is dead: its key has expired. */
export const NODE_TTL_MS = 3000;
// After Redis comes back, every node needs a heartbeat to set its key again before anyone judges.
const REJUDGE_DELAY_MS = NODE_TTL_MS + HEARTBEAT_MS;
const RECONNECT_STEP_MS = 100;
const RECONNECT_MAX_MS = 1000;
const CONNECT_TIMEOUT_MS = 2000;

/** What the directory tells the cluster. */
export interface DirectoryEvents {
  /** A message on this node's channel (unchecked). */
  message(text: string): void;
  /**
   * Redis is reachable again (or for the first time): the directory re-registered this node.
   * `forgotten`: this node's key had expired meanwhile, so the other nodes have taken it for dead.
   */
  available(forgotten: boolean): void;
  /** Redis became unreachable. */
  unavailable(): void;
}

/** The result of reserving a lobby name. */
export type Reservation = 'reserved' | 'taken' | 'full';

// KEYS: the lobby hash, this node's lobby set. ARGV: name, node, limit.
const RESERVE_SCRIPT = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then return -1 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[1])
return 1`;
// KEYS: the lobby hash, this node's lobby set. ARGV: name, node.
const RELEASE_SCRIPT = `
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then redis.call('HDEL', KEYS[1], ARGV[1]) end
redis.call('SREM', KEYS[2], ARGV[1])
return 1`;
// KEYS: the node set, the lobby hash. ARGV: the key prefix. Forgets every node whose heartbeat key
// has expired, and frees its lobby names; returns the nodes forgotten.
const SWEEP_SCRIPT = `
local dead = {}
for _, node in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', ARGV[1] .. 'node:' .. node) == 0 then
    local owned = ARGV[1] .. 'node-lobbies:' .. node
    for _, name in ipairs(redis.call('SMEMBERS', owned)) do
      if redis.call('HGET', KEYS[2], name) == node then redis.call('HDEL', KEYS[2], name) end
    end
    redis.call('DEL', owned)
    redis.call('SREM', KEYS[1], node)
    table.insert(dead, node)
  end
end
return dead`;

/** This node's view of the cluster's Redis. */
export class RedisDirectory {
  /** This node's id: new with each start, so a restarted node has nothing of its past. */
  readonly nodeId = randomUUID();
  private readonly commands: RedisClient;
  private readonly subscriber: RedisClient;
  private readonly channel: string;
  private commandsReady = false;
  private subscribed = false;
  private judgeAfter = Number.POSITIVE_INFINITY;
  private closed = false;
  /** The Redis's epoch when this node registered: a Redis restarted empty has a new one. */
  private epoch: string | null = null;
  private forgotten = false;

  /**
   * Connects in the background; `lobbyNames` lists this node's lobbies, registered again
   * whenever Redis comes back (a restarted Redis without persistence has forgotten them).
   */
  constructor(
    Redis: new (url: string, options: RedisOptions) => RedisClient,
    url: string,
    private readonly prefix: string,
    private readonly lobbyNames: () => string[],
    private readonly events: DirectoryEvents,
  ) {
    const options: RedisOptions = {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: CONNECT_TIMEOUT_MS,
      retryStrategy: (times) => Math.min(times * RECONNECT_STEP_MS, RECONNECT_MAX_MS),
    };
    this.channel = `${prefix}to:${this.nodeId}`;
    this.commands = new Redis(url, options);
    this.subscriber = new Redis(url, options);
    for (const client of [this.commands, this.subscriber]) {
      // Without a listener, ioredis's connection errors would be thrown as unhandled events.
      client.on('error', () => undefined);
      client.on('close', () => this.lost());
    }
    this.commands.on('ready', () => void this.commandsUp());
    this.subscriber.on('ready', () => void this.subscriberUp());
    this.subscriber.on('message', (_channel: string, text: string) => this.events.message(text));
  }

  /** Whether Redis is reachable: both connections up and this node registered. */
  get available(): boolean {
    return this.commandsReady && this.subscribed && !this.closed;
  }

  /** Whether enough time has passed since Redis came back to call a node without a key dead. */
  get judging(): boolean {
    return this.available && Date.now() >= this.judgeAfter;
  }

  /** Reserves `name` for a lobby of this node, unless it is taken or the cluster holds `limit` lobbies. */
  async reserve(name: string, limit: number): Promise<Reservation> {
    const result = await this.commands.eval(RESERVE_SCRIPT, 2, this.key('lobbies'), this.ownedKey(), name, this.nodeId, limit);
    return result === 1 ? 'reserved' : result === 0 ? 'taken' : 'full';
  }

  /** Frees the name of a lobby of this node; best effort (a dead node's names are swept). */
  release(name: string): void {
    if (!this.available) return;
    this.commands.eval(RELEASE_SCRIPT, 2, this.key('lobbies'), this.ownedKey(), name, this.nodeId).catch(() => undefined);
  }

  /** The node holding lobby `name`, or null when there is none. */
  ownerOf(name: string): Promise<string | null> {
    return this.commands.hget(this.key('lobbies'), name);
  }

  /** Sends `text` to `node`'s channel; lost if Redis is away (pub/sub is at most once anyway). */
  publish(node: string, text: string): void {
    if (!this.available) return;
    this.commands.publish(`${this.prefix}to:${node}`, text).catch(() => undefined);
  }

  /** Refreshes this node's key; false when Redis is away. */
  async beat(): Promise<boolean> {
    if (!this.available) return false;
    try {
      await this.commands.set(this.key(`node:${this.nodeId}`), '1', 'PX', NODE_TTL_MS);
      return true;
    } catch {
      return false;
    }
  }

  /** Those of `nodes` whose key has expired. */
  async dead(nodes: readonly string[]): Promise<string[]> {
    if (nodes.length === 0) return [];
    const keys = await this.commands.mget(nodes.map((node) => this.key(`node:${node}`)));
    return nodes.filter((_, index) => keys[index] === null);
  }

  /** Forgets every dead node and frees its lobby names; returns the nodes forgotten. */
  async sweep(): Promise<string[]> {
    const dead = await this.commands.eval(SWEEP_SCRIPT, 2, this.key('nodes'), this.key('lobbies'), this.prefix);
    return Array.isArray(dead) ? dead.filter((node): node is string => typeof node === 'string') : [];
  }

  /** Leaves the cluster: frees this node's names and key, then closes both connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.available) {
      const names = this.lobbyNames();
      const multi = this.commands.multi();
      for (const name of names) multi.eval(RELEASE_SCRIPT, 2, this.key('lobbies'), this.ownedKey(), name, this.nodeId);
      multi.del(this.key(`node:${this.nodeId}`), this.ownedKey()).srem(this.key('nodes'), this.nodeId);
      await multi.exec().catch(() => undefined);
    }
    this.closed = true;
    await Promise.all([this.commands, this.subscriber].map((client) => client.quit().catch(() => client.disconnect())));
  }

  private async commandsUp(): Promise<void> {
    try {
      // Registered again after every reconnection: the key, and the names of this node's lobbies.
      const multi = this.commands.multi();
      // The first node to find Redis empty gives it an epoch; a node still in the node set of the
      // same epoch has not been swept, and so was not taken for dead.
      multi.setnx(this.key('epoch'), randomUUID()).get(this.key('epoch')).sismember(this.key('nodes'), this.nodeId);
      multi.set(this.key(`node:${this.nodeId}`), '1', 'PX', NODE_TTL_MS).sadd(this.key('nodes'), this.nodeId);
      for (const name of this.lobbyNames()) {
        multi.hsetnx(this.key('lobbies'), name, this.nodeId).sadd(this.ownedKey(), name);
      }
      const results = await multi.exec();
      const epoch = String(results?.[1]?.[1]);
      const swept = results?.[2]?.[1] === 0;
      this.forgotten ||= this.epoch === epoch && swept;
      this.epoch = epoch;
      this.commandsReady = true;
      this.becameAvailable();
    } catch {
      // The connection dropped again; its next 'ready' retries.
    }
  }

  private async subscriberUp(): Promise<void> {
    try {
      await this.subscriber.subscribe(this.channel);
      this.subscribed = true;
      this.becameAvailable();
    } catch {
      // As above.
    }
  }

  private becameAvailable(): void {
    if (!this.available) return;
    this.judgeAfter = Date.now() + REJUDGE_DELAY_MS;
    const { forgotten } = this;
    this.forgotten = false;
    this.events.available(forgotten);
  }

  private lost(): void {
    const was = this.available;
    this.commandsReady = this.commands.status === 'ready' && this.commandsReady;
    this.subscribed = this.subscriber.status === 'ready' && this.subscribed;
    if (was && !this.available) this.events.unavailable();
  }

  private key(name: string): string {
    return `${this.prefix}${name}`;
  }

  private ownedKey(): string {
    return this.key(`node-lobbies:${this.nodeId}`);
  }
}
