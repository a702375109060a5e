export type {
  Backend,
  BackendChannel,
  BackendChannelHandlers,
  BackendChannelInfo,
  BackendChannelInit,
  BackendConfig,
  BackendConnection,
  BackendConnectionHandlers,
} from './backend.js';
export { DataChannel, UNSET_RELIABILITY } from './data-channel.js';
export { RtcError, type GodotErrorName } from './errors.js';
export type { IceServerConfig } from './ice-servers.js';
export {
  PeerConnection,
  PEER_CONNECTION_DEFAULTS,
  MAX_CHANNEL_ID,
  type DataChannelOptions,
  type PeerConnectionConfig,
  type PeerConnectionEvents,
} from './peer-connection.js';
export { ChannelState, ConnectionState, GatheringState, SignalingState, WriteMode } from './states.js';
