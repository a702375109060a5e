import { RtcError } from '../transport/errors.js';
import { TARGET_PEER_SERVER, TransferMode } from '../mesh/transfer.js';
import { type MethodTable, buildMethodTable } from './method-table.js';

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

/** What an {@link RpcNode} asks of the API that registered it. */
export interface RpcSender {
  /** @internal */
  call(node: RpcNode<object, string>, method: string, target: number, args: unknown[]): boolean;
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
 * An object registered under a path: the counterpart of a Godot node with `@rpc` methods. Its
 * `rpc` and `rpcId` are typed by the object's methods, so a wrong method name or argument type
 * fails to compile.
 */
export class RpcNode<T extends object, M extends string> {
  /** @internal The method table both sides compare by hash. */
  readonly table: MethodTable;
  /** @internal Methods by wire id. */
  readonly methods: readonly RpcMethod[];
  private readonly byName = new Map<string, RpcMethod>();
  private authority = TARGET_PEER_SERVER;

  /** @internal Made by `MultiplayerAPI.register`. */
  constructor(
    private readonly sender: RpcSender,
    readonly path: string,
    /** @internal The id this side announces the path under. */
    readonly pathId: number,
    readonly target: T,
    config: RpcConfigMap<T>,
  ) {
    const names = Object.keys(config);
    this.table = buildMethodTable(names);
    this.methods = this.table.names.map((name, id) => {
      const method = resolveMethod(path, name, id, (target as Record<string, unknown>)[name], (config as Record<string, RpcConfig>)[name]!);
      this.byName.set(name, method);
      return method;
    });
  }

  /** Godot `Node.rpc`: calls the method on every peer (and here too when `callLocal`). */
  rpc<K extends M>(method: K, ...args: RpcArgs<T, K & keyof T>): boolean {
    return this.sender.call(this as RpcNode<object, string>, method, 0, args);
  }

  /**
   * Godot `Node.rpc_id`: calls the method on one peer; 0 means every peer, -n everyone but n.
   * @throws RtcError ERR_INVALID_PARAMETER calling yourself without `callLocal`.
   */
  rpcId<K extends M>(peerId: number, method: K, ...args: RpcArgs<T, K & keyof T>): boolean {
    return this.sender.call(this as RpcNode<object, string>, method, peerId, args);
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

  /** @internal The method of that name. @throws RtcError ERR_INVALID_PARAMETER for an unknown one. */
  method(name: string): RpcMethod {
    const method = this.byName.get(name);
    if (!method) {
      throw new RtcError('ERR_INVALID_PARAMETER', `"${name}" is not an RPC method of ${this.path}: declare it in register().`);
    }
    return method;
  }
}

function resolveMethod(path: string, name: string, id: number, fn: unknown, config: RpcConfig): RpcMethod {
  if (typeof fn !== 'function') {
    throw new RtcError('ERR_INVALID_PARAMETER', `${path} has no method "${name}": declare only methods of the registered object.`);
  }
  const { mode = 'authority', callLocal = false, transferMode = TransferMode.Reliable, channel = 0, maxArguments = fn.length } = config ?? {};
  if (mode !== 'authority' && mode !== 'anyPeer') {
    throw new RtcError('ERR_INVALID_PARAMETER', `${path}.${name}: mode is "authority" or "anyPeer".`);
  }
  if (![TransferMode.Reliable, TransferMode.Unreliable, TransferMode.UnreliableOrdered].includes(transferMode)) {
    throw new RtcError('ERR_INVALID_PARAMETER', `${path}.${name}: transferMode is a TransferMode.`);
  }
  if (!Number.isInteger(channel) || channel < 0 || channel > 255) {
    throw new RtcError('ERR_INVALID_PARAMETER', `${path}.${name}: channel is an integer 0 to 255.`);
  }
  if (!Number.isInteger(maxArguments) || maxArguments < 0) {
    throw new RtcError('ERR_INVALID_PARAMETER', `${path}.${name}: maxArguments is a whole number.`);
  }
  return { name, id, mode, callLocal: Boolean(callLocal), transferMode, channel, arity: maxArguments };
}
