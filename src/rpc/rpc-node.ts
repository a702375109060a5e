import { RtcError } from '../transport/errors.js';
import { TARGET_PEER_SERVER, TransferMode } from '../mesh/multiplayer-constants.js';
import { type MethodTable, buildMethodTable } from './method-table.js';
import type { RpcCodec } from './codec.js';
import type { PathTarget } from './path-cache.js';

/** Who may call an RPC method: Godot's `authority` and `any_peer`. */
export type RpcMode = 'authority' | 'anyPeer';

/** How one RPC method is called: Godot's `@rpc(mode, sync, transfer_mode, channel)`. */
export interface RpcConfig {
  /** Who may call it remotely. Default `authority`, as in Godot. */
  mode?: RpcMode;
  /** Whether `rpc()` also runs it on the calling side. Default false. */
  callLocal?: boolean;
  /** How the call travels. Default Reliable. */
  transferMode?: TransferMode;
  /** The transfer channel it travels on. Default 0. */
  channel?: number;
  /**
   * The most arguments a call may carry. Default: the parameters the method declares
   * (`Function.length`); give it for a method with rest or defaulted parameters.
   */
  maxArguments?: number;
}

/** The names of `T`'s methods. */
export type MethodNames<T> = { [K in keyof T]: T[K] extends (...args: never[]) => unknown ? K : never }[keyof T] & string;

/** The declaration of a target's RPC methods: a config for each method that may be called remotely. */
export type RpcConfigMap<T> = { [K in MethodNames<T>]?: RpcConfig };

/** The arguments of method `K` of `T`. */
export type RpcArgs<T, K extends keyof T> = T[K] extends (...args: infer A) => unknown ? A : never;

/** What an {@link RpcTarget} asks of the API it belongs to. */
export interface RpcSender {
  /** @internal */
  call(target: RpcTarget<object, string>, method: string, peerId: number, args: unknown[]): boolean;
  getUniqueId(): number;
}

/** One RPC method as the wire knows it. */
export interface RpcMethod {
  readonly name: string;
  /** Index in the path's sorted method table: what a CALL carries. */
  readonly id: number;
  readonly mode: RpcMode;
  readonly callLocal: boolean;
  readonly transferMode: TransferMode;
  readonly channel: number;
  /** Arguments the method declares; a call with more is refused (fewer leave the rest undefined, as in JavaScript). */
  readonly arity: number;
}

/**
 * The RPC methods one config declares, with their wire ids: an object registered at a path has
 * its own, the entities of a spawner share one.
 */
export class RpcMethods {
  /** The method table both sides compare by hash. */
  readonly table: MethodTable;
  /** Methods by wire id. */
  readonly byId: readonly RpcMethod[];
  private readonly byName = new Map<string, RpcMethod>();

  /**
   * @param label what the methods belong to, for messages.
   * @param arityOf the arguments a method takes when its config does not say (`maxArguments`).
   */
  constructor(
    private readonly label: string,
    config: Readonly<Record<string, RpcConfig | undefined>>,
    arityOf: (name: string) => number,
  ) {
    this.table = buildMethodTable(Object.keys(config));
    this.byId = this.table.names.map((name, id) => {
      const method = resolveMethod(label, name, id, config[name] ?? {}, arityOf);
      this.byName.set(name, method);
      return method;
    });
  }

  /** The method of that name. @throws RtcError ERR_INVALID_PARAMETER for an unknown one. */
  get(name: string): RpcMethod {
    const method = this.byName.get(name);
    if (!method) {
      throw new RtcError('ERR_INVALID_PARAMETER', `"${name}" is not an RPC method of ${this.label}: declare it in its config.`);
    }
    return method;
  }
}

/**
 * Something whose methods peers call: a registered object or a spawned entity. Its `rpc` and
 * `rpcId` are typed by the object's methods, so a wrong method name or argument type fails to
 * compile.
 */
export abstract class RpcTarget<T extends object, M extends string> {
  private authority = TARGET_PEER_SERVER;

  /** @internal */
  constructor(
    private readonly sender: RpcSender,
    /** @internal The methods peers may call, with their wire ids. */
    readonly methods: RpcMethods,
  ) {}

  /** The object whose methods the calls run. */
  abstract get target(): T;

  /** @internal The registration whose path id the calls carry: the node itself, or an entity's spawner. */
  abstract get address(): PathTarget;

  /** @internal Encodes a call of method `methodId` on this target. */
  abstract encodeCall(codec: RpcCodec, methodId: number, args: readonly unknown[]): Uint8Array;

  /** @internal Whether a call to every peer goes to `peerId`: a registered object is everywhere. */
  reaches(_peerId: number): boolean {
    return true;
  }

  /** Godot `Node.rpc`: calls the method on every peer (and here too when `callLocal`). */
  rpc<K extends M>(method: K, ...args: RpcArgs<T, K & keyof T>): boolean {
    return this.sender.call(this as RpcTarget<object, string>, method, 0, args);
  }

  /**
   * Godot `Node.rpc_id`: calls the method on one peer; 0 means every peer, -n everyone but n.
   * @throws RtcError ERR_INVALID_PARAMETER calling yourself without `callLocal`.
   */
  rpcId<K extends M>(peerId: number, method: K, ...args: RpcArgs<T, K & keyof T>): boolean {
    return this.sender.call(this as RpcTarget<object, string>, method, peerId, args);
  }

  /** Godot `Node.set_multiplayer_authority`: the peer whose calls `authority` methods accept. */
  setMultiplayerAuthority(peerId: number): void {
    if (!Number.isInteger(peerId) || peerId < 1) {
      throw new RtcError('ERR_INVALID_PARAMETER', 'the multiplayer authority is a peer id from 1 up.');
    }
    this.authority = peerId;
  }

  /** Godot `Node.get_multiplayer_authority`. Default 1, the server. */
  getMultiplayerAuthority(): number {
    return this.authority;
  }

  /** Godot `Node.is_multiplayer_authority`: whether this side is the authority. */
  isMultiplayerAuthority(): boolean {
    return this.sender.getUniqueId() === this.authority;
  }
}

/**
 * An object registered under a path: the counterpart of a Godot node with `@rpc` methods.
 */
export class RpcNode<T extends object, M extends string> extends RpcTarget<T, M> implements PathTarget {
  /** @internal Made by `MultiplayerAPI.register`. */
  constructor(
    sender: RpcSender,
    readonly path: string,
    /** @internal The id this side announces the path under. */
    readonly pathId: number,
    private readonly object: T,
    config: RpcConfigMap<T>,
  ) {
    const methods = config as Readonly<Record<string, RpcConfig | undefined>>;
    super(sender, new RpcMethods(path, methods, (name) => methodOf(path, object, name).length));
    for (const name of Object.keys(methods)) methodOf(path, object, name);
  }

  get target(): T {
    return this.object;
  }

  /** @internal What peers compare before calling: the method table's hash. */
  get hash(): number {
    return this.methods.table.hash;
  }

  /** @internal */
  get address(): PathTarget {
    return this;
  }

  /** @internal */
  encodeCall(codec: RpcCodec, methodId: number, args: readonly unknown[]): Uint8Array {
    return codec.encodeCall(this.pathId, methodId, args);
  }
}

/**
 * The method `name` of `object`.
 * @throws RtcError ERR_INVALID_PARAMETER when it has none by that name.
 */
export function methodOf(label: string, object: object, name: string): (...args: unknown[]) => unknown {
  const fn = (object as Record<string, unknown>)[name];
  if (typeof fn !== 'function') {
    throw new RtcError('ERR_INVALID_PARAMETER', `${label} has no method "${name}": declare only methods of the object.`);
  }
  return fn as (...args: unknown[]) => unknown;
}

function resolveMethod(label: string, name: string, id: number, config: RpcConfig, arityOf: (name: string) => number): RpcMethod {
  const { mode = 'authority', callLocal = false, transferMode = TransferMode.Reliable, channel = 0 } = config;
  const maxArguments = config.maxArguments ?? arityOf(name);
  if (mode !== 'authority' && mode !== 'anyPeer') {
    throw new RtcError('ERR_INVALID_PARAMETER', `${label}.${name}: mode is "authority" or "anyPeer".`);
  }
  if (![TransferMode.Reliable, TransferMode.Unreliable, TransferMode.UnreliableOrdered].includes(transferMode)) {
    throw new RtcError('ERR_INVALID_PARAMETER', `${label}.${name}: transferMode is a TransferMode.`);
  }
  if (!Number.isInteger(channel) || channel < 0 || channel > 255) {
    throw new RtcError('ERR_INVALID_PARAMETER', `${label}.${name}: channel is an integer 0 to 255.`);
  }
  if (!Number.isInteger(maxArguments) || maxArguments < 0) {
    throw new RtcError('ERR_INVALID_PARAMETER', `${label}.${name}: maxArguments is a whole number.`);
  }
  return { name, id, mode, callLocal: Boolean(callLocal), transferMode, channel, arity: maxArguments };
}
