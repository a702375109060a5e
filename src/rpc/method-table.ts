// The method tables of RPC paths: the sorted names that give each method its wire id, and the
// hash both ends compare before they trust those ids.
import { invalid } from './errors.js';

/** A path's methods in wire order, with the hash that both ends compare. */
export interface MethodTable {
  /** The method names, sorted; a method's id is its index here. */
  readonly names: readonly string[];
  /** Method name → method id. */
  readonly methodIds: ReadonlyMap<string, number>;
  /** {@link methodTableHash} of the names. */
  readonly hash: number;
}

const METHOD_SEPARATOR = '\n';
// 32-bit FNV-1a (http://www.isthe.com/chongo/tech/comp/fnv/).
const FNV_OFFSET_BASIS = 0x811c_9dc5;
const FNV_PRIME = 0x0100_0193;

const utf8Encoder = new TextEncoder();

/**
 * Sorts a path's method names into the table both ends share: a method's id is its index in
 * `names`, sorted by UTF-16 code units (the default order of `Array.prototype.sort`). Throws
 * `ERR_INVALID_PARAMETER` for a name that is empty, not a string, contains a line feed or
 * appears twice.
 */
export function buildMethodTable(methodNames: readonly string[]): MethodTable {
  const names = [...methodNames].sort();
  const methodIds = new Map<string, number>();
  for (const name of names) {
    if (typeof name !== 'string' || name.length === 0 || name.includes(METHOD_SEPARATOR)) {
      throw invalid(`method names are non-empty strings without a line feed, not ${JSON.stringify(name)}`);
    }
    if (methodIds.has(name)) throw invalid(`method "${name}" is listed twice; list each method once`);
    methodIds.set(name, methodIds.size);
  }
  return { names, methodIds, hash: hashText(names.join(METHOD_SEPARATOR)) };
}

/**
 * The 32-bit FNV-1a hash of a path's sorted method names joined by line feeds, in UTF-8: two ends
 * agree on method ids exactly when their hashes match. Throws as {@link buildMethodTable}.
 */
export function methodTableHash(methodNames: readonly string[]): number {
  return buildMethodTable(methodNames).hash;
}

/** The 32-bit FNV-1a hash of a text's UTF-8 bytes: what both ends compare to agree on a layout. */
export function hashText(text: string): number {
  return fnv1a(utf8Encoder.encode(text));
}

function fnv1a(bytes: Uint8Array): number {
  let hash = FNV_OFFSET_BASIS;
  for (const byte of bytes) hash = Math.imul(hash ^ byte, FNV_PRIME) >>> 0;
  return hash;
}
