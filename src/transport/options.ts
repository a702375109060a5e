import { RtcError } from './errors.js';

/**
 * Fills a set of positive-integer limits from their defaults, checking each one the caller gave.
 * @throws RtcError ERR_INVALID_PARAMETER naming the first that is not a positive integer.
 */
export function resolvePositiveIntegers<K extends string>(
  defaults: Readonly<Record<K, number>>,
  given: { readonly [P in NoInfer<K>]?: unknown },
): Record<K, number> {
  const resolved = { ...defaults } as Record<K, number>;
  for (const key of Object.keys(defaults) as K[]) {
    const value = given[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
      throw new RtcError('ERR_INVALID_PARAMETER', `${key} is a positive integer.`);
    }
    resolved[key] = value;
  }
  return resolved;
}
