/**
 * rtcmesh for Node.js: the whole API, with node-datachannel as the default WebRTC backend.
 */
import { SignalingClient } from './signaling/client.js';
import { NodeWebSocket } from './signaling/node-websocket.js';
import { nodeDataChannelBackend } from './transport/backends/node-datachannel.js';
import { PeerConnection } from './transport/peer-connection.js';

PeerConnection.setDefaultBackend(nodeDataChannelBackend);
SignalingClient.setDefaultWebSocket(NodeWebSocket);

export * from './transport/index.js';
export * from './mesh/index.js';
export * from './rpc/index.js';
export * from './replication/index.js';
export * from './multiplayer/index.js';
export * from './signaling/index.js';
export * from './conditioner/index.js';
export { NodeWebSocket, NODE_WEBSOCKET_MAX_PAYLOAD } from './signaling/node-websocket.js';
export { nodeDataChannelBackend };
export * from './transport/backends/portable.js';

/**
 * Releases the default backend's threads. Call once at shutdown, after every connection is closed
 * (node-datachannel crashes if a connection is still open or a callback is still running).
 */
export function cleanup(): void {
  PeerConnection.getDefaultBackend()?.cleanup?.();
}
