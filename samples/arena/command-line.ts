// Command-line options of the arena's two programs, the server and the bots. node:util's strict
// parseArgs reads them; the values go to the library, whose own checks judge them (the link
// conditions here, the ports when the servers start). A command line refused here prints the
// fault and the usage and exits with code 2.
import { parseArgs } from 'node:util';
import { RtcError } from 'rtcmesh';

/** Exit code of a bad command line, as most Unix tools use. */
export const EXIT_USAGE = 2;

/** The options among `names` that `args` gives, each taking a value; a usage error for anything else. */
export function readArguments<const K extends string>(usage: string, args: string[], names: readonly K[]): Partial<Record<K, string>> {
  const options = Object.fromEntries(names.map((name) => [name, { type: 'string' as const }]));
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values as Partial<Record<K, string>>;
  } catch (error) {
    return usageError(usage, error instanceof Error ? error.message : String(error));
  }
}

/** The whole number `--name` gives, or `fallback` when it gives none; what range it must be in is for its user. */
export function wholeNumber(usage: string, name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text)) return usageError(usage, `--${name} takes a whole number, not "${text}"`);
  return Number(text);
}

/** What `read` returns; when a library check refuses a value (RtcError), a usage error naming it. */
export function orUsage<T>(usage: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof RtcError) return usageError(usage, error.message);
    throw error;
  }
}

/** Prints `fault` and the usage, and exits with {@link EXIT_USAGE}. */
export function usageError(usage: string, fault: string): never {
  console.error(`${fault}\n\n${usage}`);
  process.exit(EXIT_USAGE);
}
