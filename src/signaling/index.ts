export * from './client-index.js';
export {
  SignalingServer,
  type SignalingServerAddress,
  type SignalingServerEvents,
  type SignalingServerOptions,
  type SocketClosedInfo,
} from './server.js';
