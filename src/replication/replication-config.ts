// What a game declares a spawner's entities replicate (Godot's SceneReplicationConfig): each
// property with its type, its replication mode and whether it travels with the spawn; resolved
// once into the layout both ends hash and agree on.
import type { RpcLimits } from '../rpc/rpc-limits.js';
import { RtcError } from '../transport/errors.js';
import { type PropertyCodec, type PropertyType, propertyCodec } from './property-codec.js';
import { MAX_ALWAYS_PROPERTIES } from './replication-packets.js';

/** Godot `SceneReplicationConfig.ReplicationMode`, with Godot's numeric values. */
export enum ReplicationMode {
  /** Sent with the spawn only (when `spawn` is true), never afterwards. */
  Never = 0,
  /** Sent every `replicationIntervalMs`, unreliable: the latest state wins. */
  Always = 1,
  /** Watched: checked every `deltaIntervalMs`, sent reliably once per change. */
  OnChange = 2,
}

/**
 * How a receiver interpolates an `Always` property between snapshots: `linear` (numbers and
 * vectors, the default for them), `angle` (the shorter way round: a quantized range is one turn,
 * a float's turn is 2π), `step` (the value of the snapshot before; the default for others).
 */
export type Interpolation = 'linear' | 'angle' | 'step';

/** One replicated property: Godot's `add_property`, `property_set_replication_mode` and `property_set_spawn`. */
export interface PropertyDeclaration {
  type: PropertyType;
  /** Default `ReplicationMode.Always`. */
  mode?: ReplicationMode;
  /** Whether the value travels with the spawn. Default true. */
  spawn?: boolean;
  /** How `interpolate()` blends it. Default `linear` for numbers and vectors, `step` for the rest. */
  interpolation?: Interpolation;
}

/** The replicated properties of an entity, by name: a declaration, or just a type (always, with the spawn). */
export type PropertyMap = Readonly<Record<string, PropertyDeclaration | PropertyType>>;

/** One property as the layout knows it. */
export interface ResolvedProperty {
  readonly name: string;
  /** The property's place in the layout. */
  readonly index: number;
  readonly codec: PropertyCodec;
  readonly mode: ReplicationMode;
  readonly spawn: boolean;
  readonly interpolation: Interpolation;
  /** One turn, for `angle` interpolation. */
  readonly period: number;
}

/** The resolved layout: the properties in wire order, grouped by when they travel. */
export interface ReplicationLayout {
  /** Sorted by name: a property's index is its place on the wire. */
  readonly properties: readonly ResolvedProperty[];
  readonly spawnProperties: readonly ResolvedProperty[];
  readonly alwaysProperties: readonly ResolvedProperty[];
  /** At most {@link MAX_WATCHED_PROPERTIES}: a DELTA names them by a bit each. */
  readonly watchedProperties: readonly ResolvedProperty[];
  /** The text both ends hash: names, types, modes and spawn flags. */
  readonly signature: string;
}

/** The most watched (`OnChange`) properties one entity may have: a DELTA's mask is 32 bits. */
export const MAX_WATCHED_PROPERTIES = 32;

/**
 * Resolves a game's property map into its layout.
 * @throws RtcError ERR_INVALID_PARAMETER naming the property that is declared wrongly.
 */
export function resolveLayout(label: string, map: PropertyMap, limits: Readonly<RpcLimits>): ReplicationLayout {
  if (typeof map !== 'object' || map === null) throw new RtcError('ERR_INVALID_PARAMETER', `${label}: properties is an object of property declarations.`);
  const properties = Object.keys(map)
    .sort()
    .map((name, index): ResolvedProperty => {
      const given = map[name]!;
      const declaration: PropertyDeclaration = isDeclaration(given) ? given : { type: given };
      const { mode = ReplicationMode.Always, spawn = true } = declaration;
      if (mode !== ReplicationMode.Never && mode !== ReplicationMode.Always && mode !== ReplicationMode.OnChange) {
        throw new RtcError('ERR_INVALID_PARAMETER', `${label}.${name}: mode is a ReplicationMode (Never, Always, OnChange).`);
      }
      if (mode === ReplicationMode.Never && !spawn) {
        throw new RtcError('ERR_INVALID_PARAMETER', `${label}.${name} is never sent: give it spawn: true or another mode.`);
      }
      const interpolation = declaration.interpolation ?? (isNumeric(declaration.type) ? 'linear' : 'step');
      if (interpolation !== 'step' && !isNumeric(declaration.type)) {
        throw new RtcError('ERR_INVALID_PARAMETER', `${label}.${name}: only numbers and vectors interpolate; give it interpolation 'step'.`);
      }
      if (interpolation !== 'linear' && interpolation !== 'angle' && interpolation !== 'step') {
        throw new RtcError('ERR_INVALID_PARAMETER', `${label}.${name}: interpolation is 'linear', 'angle' or 'step'.`);
      }
      const period = typeof declaration.type === 'object' && 'min' in declaration.type ? declaration.type.max - declaration.type.min : 2 * Math.PI;
      return { name, index, codec: propertyCodec(declaration.type, `${label}.${name}`, limits), mode, spawn: Boolean(spawn), interpolation, period };
    });
  const watchedProperties = properties.filter((property) => property.mode === ReplicationMode.OnChange);
  const alwaysProperties = properties.filter((property) => property.mode === ReplicationMode.Always);
  if (alwaysProperties.length > MAX_ALWAYS_PROPERTIES) {
    throw new RtcError('ERR_INVALID_PARAMETER', `${label}: at most ${MAX_ALWAYS_PROPERTIES} properties may be Always; make others OnChange, or group them in a vector or an 'any'.`);
  }
  if (watchedProperties.length > MAX_WATCHED_PROPERTIES) {
    throw new RtcError('ERR_INVALID_PARAMETER', `${label}: at most ${MAX_WATCHED_PROPERTIES} properties may be OnChange; make others Always.`);
  }
  return {
    properties,
    spawnProperties: properties.filter((property) => property.spawn),
    alwaysProperties,
    watchedProperties,
    signature: properties.map((property) => `${property.name}:${property.codec.signature}:${property.mode}:${property.spawn ? 1 : 0}`).join('\n'),
  };
}

const NUMERIC = new Set(['u8', 'i8', 'u16', 'i16', 'u32', 'i32', 'f32', 'f64', 'vec2', 'vec3', 'quantized']);

function isNumeric(type: PropertyType): boolean {
  return NUMERIC.has(typeof type === 'string' ? type : type.type);
}

function isDeclaration(value: PropertyDeclaration | PropertyType): value is PropertyDeclaration {
  return typeof value === 'object' && value !== null && 'type' in value && (typeof value.type !== 'string' || !('min' in value || 'maxLength' in value));
}
