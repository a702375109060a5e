export { Entity } from './entity.js';
export { MultiplayerSpawner, type MultiplayerSpawnerEvents, SPAWNER_OPTION_DEFAULTS, type SpawnerOptions } from './multiplayer-spawner.js';
export {
  MultiplayerSynchronizer,
  type MultiplayerSynchronizerEvents,
  type SynchronizerOptions,
  type VisibilityFilter,
} from './multiplayer-synchronizer.js';
export { DEFAULT_MAX_LENGTH, type PropertyType } from './property-codec.js';
export { MAX_WATCHED_PROPERTIES, ReplicationMode, type PropertyDeclaration, type PropertyMap } from './replication-config.js';
export { REPLICATION_DROP_REASONS, type ReplicationDropReason } from './peer-replication-state.js';
export { MAX_ASSEMBLIES_PER_PEER, MAX_FRAGMENTS, MAX_REPLICATION_PACKET_BYTES } from './replication-packets.js';
