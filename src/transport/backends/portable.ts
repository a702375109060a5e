// The backends that run anywhere, which both entries export: the W3C one (a browser's engine, or
// a polyfill's) and the in-memory one. node-datachannel's is the Node entry's alone.
export { createW3CBackend, type RTCPeerConnectionConstructor, type W3CBackendOptions } from './w3c.js';
export {
  createMemoryBackend,
  MEMORY_BACKEND_DEFAULTS,
  MEMORY_LINK_DEFAULTS,
  type MemoryBackend,
  type MemoryBackendOptions,
  type MemoryLinkConditions,
} from './memory.js';
export { ManualScheduler, type MemoryScheduler, realTimeScheduler } from './memory-scheduler.js';
