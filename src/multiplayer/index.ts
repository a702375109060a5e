export {
  MultiplayerAPI,
  type MultiplayerAPIEvents,
  type MultiplayerAPIOptions,
  type RpcErrorContext,
  type RpcPeerStats,
} from './multiplayer-api.js';
