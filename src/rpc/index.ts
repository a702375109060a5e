export { RpcNode, RpcTarget, type MethodNames, type RpcArgs, type RpcConfig, type RpcConfigMap, type RpcMode } from './rpc-node.js';
export { RPC_DROP_REASONS, type RpcDropReason } from './peer-rpc-state.js';
export { DEFAULT_RPC_LIMITS, type RpcLimits } from './rpc-limits.js';
export { HELD_CALL_MS, MAX_HELD_CALLS } from './rpc-interface.js';
