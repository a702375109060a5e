export { MultiplayerPeer, type MultiplayerPeerEvents } from './multiplayer-peer.js';
export { WebRTCMultiplayerPeer, MAX_PACKET_BYTES, type PeerInfo } from './webrtc-multiplayer-peer.js';
export { MESH_OPTION_DEFAULTS, type MeshOptions, UNRELIABLE_LIFETIME_FLOOR_MS } from './mesh-options.js';
export { type ChannelConfig, DEFAULT_PRIORITY, DEFAULT_WEIGHT, type LaneConfig } from './channel-layout.js';
export { type ChannelStats, type DropReason, type PeerStats, DROP_REASONS } from './peer-stats.js';
export {
  ConnectionStatus,
  MAX_PEER_ID,
  MAX_TRANSFER_CHANNEL,
  TARGET_PEER_BROADCAST,
  TARGET_PEER_SERVER,
  TransferMode,
} from './multiplayer-constants.js';
