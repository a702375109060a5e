export {
  AUTHORITY_EVENT_INTERVAL_MS,
  type AuthorityViolationContext,
  DEFAULT_AUTH_TIMEOUT_MS,
  MultiplayerAPI,
  MULTIPLAYER_API_DEFAULTS,
  type MultiplayerAPIEvents,
  type MultiplayerAPIOptions,
  type RpcErrorContext,
  type RpcPeerStats,
} from './multiplayer-api.js';
export type { AuthCallback } from './authentication.js';
export { MAX_RELAYED_PEERS } from './relayed-peers.js';
