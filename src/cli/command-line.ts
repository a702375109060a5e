// What every rtcmesh command shares: strict option parsing (node:util's parseArgs) with checked
// conversions of option text, the exit codes, and where output goes.
import { parseArgs } from 'node:util';

/** Where a command writes: `log` for its results (stdout), `error` for faults (stderr). */
export interface Output {
  log(line: string): void;
  error(line: string): void;
}

/** A bad command line: main prints the message and exits with {@link EXIT_USAGE}. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Exit code of a bad command line, as most Unix tools and shell builtins use. */
export const EXIT_USAGE = 2;

/** Exit code of a command that ran and failed. */
export const EXIT_FAILURE = 1;

/**
 * Parses `args`, strictly, as options that each take a value: `defaults` names every option
 * with its default, undefined for a required one. An unknown option, a missing value or required
 * option, or a positional argument throws a {@link UsageError}.
 */
export function parseOptions<const K extends string>(args: string[], defaults: Record<K, string | undefined>): Record<K, string> {
  const names = Object.keys(defaults) as K[];
  let parsed: Record<string, unknown>;
  try {
    const options = Object.fromEntries(names.map((name) => [name, { type: 'string' as const }]));
    parsed = parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    if (!isParseArgsError(error)) throw error;
    // parseArgs's first sentence names the fault; the rest suggests "--" syntax nobody here needs.
    throw new UsageError(error.message.split('. ')[0]!.replace(/\.$/, ''));
  }
  const values = {} as Record<K, string>;
  for (const name of names) {
    const value = parsed[name] ?? defaults[name];
    if (typeof value !== 'string') throw new UsageError(`--${name} is required`);
    values[name] = value;
  }
  return values;
}

/**
 * Defaults for {@link parseOptions} that make `names` optional: an option not given reads as ''.
 */
export function optionalOptions<const K extends string>(names: readonly K[]): Record<K, string> {
  return Object.fromEntries(names.map((name) => [name, ''])) as Record<K, string>;
}

/**
 * The value of option `name` as an integer from `min` to `max`.
 * @throws UsageError for anything else, naming the option and its range.
 */
export function integerOption(name: string, text: string, min: number, max: number): number {
  const value = /^-?\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`--${name} takes an integer from ${min} to ${max}, not "${text}"`);
  }
  return value;
}

/**
 * The value of option `name` as a decimal number greater than 0 and at most `max`.
 * @throws UsageError for anything else, naming the option and its range.
 */
export function positiveNumberOption(name: string, text: string, max: number): number {
  const value = /^\d*\.?\d+$/.test(text) ? Number(text) : NaN;
  if (!(value > 0 && value <= max)) {
    throw new UsageError(`--${name} takes a number greater than 0 and at most ${max}, not "${text}"`);
  }
  return value;
}

/**
 * The value of option `name`, which must be one of `choices`.
 * @throws UsageError for anything else, listing the choices.
 */
export function choiceOption<const C extends string>(name: string, text: string, choices: readonly C[]): C {
  const choice = choices.find((candidate) => candidate === text);
  if (choice === undefined) throw new UsageError(`--${name} takes ${choices.join(' or ')}, not "${text}"`);
  return choice;
}

function isParseArgsError(error: unknown): error is Error & { code: string } {
  return error instanceof Error && String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS_');
}
