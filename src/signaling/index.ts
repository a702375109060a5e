export * from './client-exports.js';
export {
  SignalingServer,
  type SignalingServerAddress,
  type SignalingServerEvents,
  type SignalingServerOptions,
  type SocketClosedInfo,
} from './server.js';
