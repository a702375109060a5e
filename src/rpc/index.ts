export {
  MultiplayerAPI,
  type MultiplayerAPIEvents,
  type MultiplayerAPIOptions,
  type RpcErrorContext,
  type RpcPeerStats,
} from './multiplayer-api.js';
export { RpcNode, type MethodNames, type RpcArgs, type RpcConfig, type RpcConfigMap, type RpcMode } from './rpc-node.js';
export { RPC_DROP_REASONS, type RpcDropReason } from './peer-rpc-state.js';
export { DEFAULT_RPC_LIMITS, type RpcLimits } from './rpc-limits.js';
