// The RPC interface (Godot's SceneRPCInterface): sends calls to peers, and runs the calls peers
// send, after checking the method, the argument count and the caller's authority.
import { TARGET_PEER_SERVER } from '../mesh/multiplayer-constants.js';
import { RtcError } from '../transport/errors.js';
import type { CallPacket, EntityCallPacket, RpcCodec } from './codec.js';
import type { PathCache, PathTarget } from './path-cache.js';
import type { PeerRpcState } from './peer-rpc-state.js';
import { type RpcMethod, RpcNode, type RpcTarget } from './rpc-node.js';

/** What the RPC interface needs of the multiplayer API around it. */
export interface RpcHost {
  /** This side's peer id; 0 before it has one. */
  selfId(): number;
  /** Whether packets can be sent now. */
  isConnected(): boolean;
  /** Whether a packet for `target` must travel through the server (as a RELAY). */
  relays(target: number): boolean;
  /** On a client: whether the server told of `peerId` (PEER_ADD) and it has not gone since. */
  isRelayedPeer(peerId: number): boolean;
  /** The connected peers a target means: 0 every one, n that one, -n every one but n; never `exclude`. */
  targets(target: number, exclude?: number): number[];
  /** Counts a call to `method` of `path` without authority, and drops a peer that makes too many. */
  countViolation(sender: number, path: string, method: string): void;
  /** Reports a failure that must not throw out of `poll()`. */
  reportError(error: Error, context: { peerId: number; path?: string; method?: string }): void;
}

/** A registration whose entities peers call by network id: a spawner. */
export interface EntityContainer extends PathTarget {
  /**
   * The entity `netId` names: the target, 'pending' for an id this side has not seen spawned yet
   * (its spawn may still be on its way), or undefined for one that is gone.
   */
  entityFor(netId: number): RpcTarget<object, string> | 'pending' | undefined;
}

/** Where a failure of a handler is reported. */
type CallContext = { peerId: number; path: string; method: string };

/** A call checked and ready to run. */
interface ResolvedCall {
  readonly target: RpcTarget<object, string>;
  readonly method: RpcMethod;
}

/** An entity call that arrived before its entity's spawn, held until the spawn or its deadline. */
interface HeldCall {
  readonly container: EntityContainer;
  readonly call: EntityCallPacket;
  readonly sender: number;
  readonly via: PeerRpcState;
  readonly deadline: number;
}

/** How long, and how many from one peer, entity calls are held for a spawn that has not arrived. */
export const HELD_CALL_MS = 1000;
export const MAX_HELD_CALLS = 256;

/**
 * Sends and runs RPCs. A call names its target by path id (a registered object) or by a
 * spawner's path id and a network id (an entity); either way the path cache announces the path
 * first and resolves the peer's ids on arrival.
 */
export class RpcInterface {
  private remoteSenderId = 0;
  private readonly held: HeldCall[] = [];
  /** Rejections of async handlers since the last `poll()`, reported there like a throw. */
  private readonly rejected: Array<{ error: Error; context: CallContext }> = [];

  constructor(
    private readonly host: RpcHost,
    private readonly codec: RpcCodec,
    private readonly paths: PathCache,
    private readonly now: () => number,
  ) {}

  /** Godot `get_remote_sender_id`: the caller while a call runs; 0 otherwise. */
  getRemoteSenderId(): number {
    return this.remoteSenderId;
  }

  /**
   * Calls `methodName` of `target` on `peerId` (0 everyone, -n everyone but n), and here where
   * the method is `callLocal`. Returns false when a peer could not be reached.
   * @throws RtcError ERR_INVALID_PARAMETER for an unknown method, too many arguments, a bad
   * target, or calling yourself a method that is not `callLocal`.
   */
  call(target: RpcTarget<object, string>, methodName: string, peerId: number, args: unknown[]): boolean {
    const method = target.methods.get(methodName);
    if (args.length > method.arity) {
      throw new RtcError('ERR_INVALID_PARAMETER', `${target.address.path}.${method.name} takes ${method.arity} arguments, not ${args.length}.`);
    }
    if (!Number.isInteger(peerId)) throw new RtcError('ERR_INVALID_PARAMETER', 'a target is a peer id: 0 everyone, n one peer, -n everyone but n.');
    const self = this.host.selfId();
    if (peerId === self && self !== 0) {
      if (!method.callLocal) {
        throw new RtcError('ERR_INVALID_PARAMETER', `rpcId() to yourself runs only a callLocal method; ${method.name} is not.`);
      }
      this.invoke(target, method, args, self);
      return true;
    }
    if (!this.host.isConnected()) return false;
    const packet = target.encodeCall(this.codec, method.id, args);
    let sent = true;
    if (this.host.relays(peerId)) {
      // A client the server has not told of cannot be reached through it.
      const known = peerId <= 0 || this.host.isRelayedPeer(peerId);
      sent = known && this.paths.deliver(TARGET_PEER_SERVER, target.address, this.codec.encodeRelay(peerId, packet), method.transferMode, method.channel);
    } else {
      for (const to of this.host.targets(peerId)) {
        if (peerId <= 0 && !target.reaches(to)) continue;
        sent = this.paths.deliver(to, target.address, packet, method.transferMode, method.channel) && sent;
      }
    }
    if (method.callLocal && (peerId === 0 || (peerId < 0 && -peerId !== self))) this.invoke(target, method, args, self);
    return sent;
  }

  /**
   * Runs a CALL or ENTITY_CALL from `sender` that arrived through `via` (the sender itself, or
   * the server relaying it); an entity call whose entity has not been spawned here yet is held.
   */
  receive(call: CallPacket | EntityCallPacket, sender: number, via: PeerRpcState): void {
    const resolved = this.resolveCall(call, sender, via);
    if (resolved) this.invoke(resolved.target, resolved.method, call.args, sender);
  }

  /**
   * Checks a CALL or ENTITY_CALL: its path resolves to the right kind of target, the method
   * exists, the argument count fits, and the sender may call it. Each failure is counted.
   */
  resolveCall(call: CallPacket | EntityCallPacket, sender: number, via: PeerRpcState): ResolvedCall | undefined {
    const address = this.paths.resolve(via, call.pathId);
    if (!address) return undefined;
    let target: RpcTarget<object, string> | undefined;
    if (call.kind === 'call') {
      target = address instanceof RpcNode ? (address as RpcNode<object, string>) : undefined;
      if (!target) via.dropped.unknownPath++;
    } else {
      const container = isEntityContainer(address) ? address : undefined;
      const found = container?.entityFor(call.netId);
      if (found === 'pending') {
        this.hold(container!, call, sender, via);
        return undefined;
      }
      target = found;
      if (!target) via.dropped.unknownEntity++;
    }
    if (!target) return undefined;
    const method = target.methods.byId[call.methodId];
    if (!method) {
      via.dropped.unknownMethod++;
      return undefined;
    }
    if (call.args.length > method.arity) {
      via.dropped.argumentCount++;
      return undefined;
    }
    if (method.mode === 'authority' && sender !== target.getMultiplayerAuthority()) {
      via.dropped.notAuthority++;
      this.host.countViolation(sender, target.address.path, method.name);
      return undefined;
    }
    return { target, method };
  }

  /** Runs the held calls of an entity that has just been spawned here. */
  onSpawned(container: EntityContainer, netId: number): void {
    for (let index = 0; index < this.held.length; ) {
      const held = this.held[index]!;
      if (held.container === container && held.call.netId === netId) {
        this.held.splice(index, 1);
        held.via.heldCalls--;
        this.receive(held.call, held.sender, held.via);
      } else {
        index++;
      }
    }
  }

  /** Drops the held calls past their deadline, or from a peer that left (counted `unknownEntity`). */
  expireHeld(connected: ReadonlyMap<number, PeerRpcState>): void {
    if (this.held.length === 0) return;
    const now = this.now();
    const links = new Set(connected.values());
    for (let index = 0; index < this.held.length; ) {
      const held = this.held[index]!;
      if (!links.has(held.via) || held.deadline <= now) {
        this.held.splice(index, 1);
        held.via.heldCalls--;
        held.via.dropped.unknownEntity++;
      } else {
        index++;
      }
    }
  }

  /**
   * Runs a method with `sender` as the remote sender id; a throw becomes the `error` event, and
   * so does the rejection of a promise the method returns, at the next {@link reportRejected}.
   */
  invoke(target: RpcTarget<object, string>, method: RpcMethod, args: readonly unknown[], sender: number): void {
    const previous = this.remoteSenderId;
    this.remoteSenderId = sender;
    const context = { peerId: sender, path: target.address.path, method: method.name };
    try {
      const result = (target.target as Record<string, (...values: unknown[]) => unknown>)[method.name]!(...args);
      // An unhandled rejection ends a Node.js process by default: the game hears of it instead.
      if (isThenable(result)) result.then(undefined, (error: unknown) => this.rejected.push({ error: asError(error), context }));
    } catch (error) {
      this.host.reportError(asError(error), context);
    } finally {
      this.remoteSenderId = previous;
    }
  }

  /** Reports, inside `poll()`, the async handlers that rejected since the last call. */
  reportRejected(): void {
    if (this.rejected.length === 0) return;
    for (const { error, context } of this.rejected.splice(0)) this.host.reportError(error, context);
  }

  private hold(container: EntityContainer, call: EntityCallPacket, sender: number, via: PeerRpcState): void {
    if (via.heldCalls >= MAX_HELD_CALLS) {
      via.dropped.unknownEntity++;
      return;
    }
    via.heldCalls++;
    this.held.push({ container, call, sender, via, deadline: this.now() + HELD_CALL_MS });
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null | undefined)?.then === 'function';
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

function isEntityContainer(target: PathTarget): target is EntityContainer {
  return typeof (target as Partial<EntityContainer>).entityFor === 'function';
}
