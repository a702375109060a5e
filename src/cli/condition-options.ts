// The condition flags (--loss, --delay, ...) of the demo and its peers, read from parsed options.
import { CONDITION_FLAGS, type ConditionFlag, type ConditionFlagValues, RtcError, hasConditionFlags, readConditionFlags } from '../index.js';
import { UsageError } from './command-line.js';

/**
 * The condition flags among `values` (parsed with optionalOptions(CONDITION_FLAGS), so '' is
 * "not given"), read; undefined when none is given.
 * @throws UsageError for a bad flag.
 */
export function readLinkOptions(values: Partial<Record<ConditionFlag, string>>): ConditionFlagValues | undefined {
  const given = Object.fromEntries(CONDITION_FLAGS.map((flag) => [flag, values[flag] || undefined]));
  if (!hasConditionFlags(given)) return undefined;
  try {
    return readConditionFlags(given);
  } catch (error) {
    if (error instanceof RtcError) throw new UsageError(error.message);
    throw error;
  }
}
