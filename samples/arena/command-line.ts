// Command-line options of the arena's two programs, the server and the bots: node:util's strict
// parseArgs, and a usage message and exit code 2 for anything it refuses.
import { parseArgs } from 'node:util';
import { CONDITION_FLAGS, type ConditionFlagValues, RtcError, hasConditionFlags, readConditionFlags } from '../../src/index.js';

/** Exit code of a bad command line, as most Unix tools use. */
export const EXIT_USAGE = 2;

/**
 * Reads `args` as options that each take a value, `defaults` naming every option with its
 * default (undefined for a required one). On a bad command line it prints the fault and `usage`
 * and exits with {@link EXIT_USAGE}.
 */
export function readOptions<const K extends string>(usage: string, args: string[], defaults: Record<K, string | undefined>): Record<K, string> {
  try {
    const options = Object.fromEntries(Object.keys(defaults).map((name) => [name, { type: 'string' as const }]));
    const { values } = parseArgs({ args, options, strict: true, allowPositionals: false });
    const read = {} as Record<K, string>;
    for (const name of Object.keys(defaults) as K[]) {
      const value = values[name] ?? defaults[name];
      if (typeof value !== 'string') throw new Error(`--${name} is required`);
      read[name] = value;
    }
    return read;
  } catch (error) {
    return usageError(usage, error instanceof Error ? error.message : String(error));
  }
}

/** The value of option `name` as an integer from `min` to `max`; a usage error otherwise. */
export function integerOption(usage: string, name: string, text: string, min: number, max: number): number {
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(value >= min && value <= max)) return usageError(usage, `--${name} takes an integer from ${min} to ${max}, not "${text}"`);
  return value;
}

/** Defaults that make the network condition flags optional: one not given reads as ''. */
export const CONDITION_DEFAULTS = Object.fromEntries(CONDITION_FLAGS.map((flag) => [flag, ''])) as Record<(typeof CONDITION_FLAGS)[number], string>;

/** The condition flags among `values` (read with {@link CONDITION_DEFAULTS}), or undefined when none is given; a usage error for a bad one. */
export function conditionOptions(usage: string, values: Record<(typeof CONDITION_FLAGS)[number], string>): ConditionFlagValues | undefined {
  const given = Object.fromEntries(CONDITION_FLAGS.map((flag) => [flag, values[flag] || undefined]));
  if (!hasConditionFlags(given)) return undefined;
  try {
    return readConditionFlags(given);
  } catch (error) {
    if (error instanceof RtcError) return usageError(usage, error.message);
    throw error;
  }
}

function usageError(usage: string, fault: string): never {
  console.error(`${fault}\n\n${usage}`);
  process.exit(EXIT_USAGE);
}
