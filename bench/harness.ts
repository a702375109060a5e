/**
 * What every scenario runs under: the run's settings, the alternation of raw and rtcmesh runs,
 * and the shape of a scenario.
 */
import type { Row } from './results.js';
import { sleep } from './loop.js';

/** rtcmesh's close() says nothing once the engine has finished: a pause lets it before the next run. */
const SETTLE_AFTER_CLOSE_MS = 150;

/** The settings of one benchmark run. */
export interface BenchContext {
  /** `--quick`: one short repetition of everything, for CI's smoke test. */
  quick: boolean;
  /** Repetitions of each measurement, for each side. */
  reps: number;
  /** Which sides run (`--side` narrows it to one, for profiling). */
  sides: { raw: boolean; rtcmesh: boolean };
  /** `--match`: only the measurements whose label contains this text run (for profiling one). */
  match: string | undefined;
  /** `--smoke`: `--quick` on the smallest sizes and shortest windows, to check that each scenario runs and reports. */
  smoke: boolean;
  /** `full` milliseconds, or `quick` with --quick, or a fifth of that with --smoke. */
  ms(full: number, quick: number): number;
  /** The sizes a scenario measures: all of them, or with --smoke the first (the smallest) alone. */
  sizes<T>(all: readonly T[]): readonly T[];
  /** A progress line, on stderr so that stdout holds only the table. */
  log(message: string): void;
}

/** A group of measurements, run by name with `--only`. */
export interface Scenario {
  /** The name `--only` takes and the table shows. */
  name: string;
  run(context: BenchContext): Promise<Row[]>;
}

/**
 * Runs the raw and the rtcmesh variant of a measurement alternately, `context.reps` times each
 * (raw, rtcmesh, raw, rtcmesh…), so that drift of the machine falls on both alike.
 */
export async function alternate<T>(
  context: BenchContext,
  what: string,
  raw: () => Promise<T>,
  rtcmesh: () => Promise<T>,
): Promise<{ raw: T[]; rtcmesh: T[] }> {
  const results = { raw: [] as T[], rtcmesh: [] as T[] };
  if (context.match !== undefined && !what.includes(context.match)) return results;
  for (let rep = 1; rep <= context.reps; rep++) {
    if (context.sides.raw) {
      results.raw.push(await raw());
      context.log(`  ${what}: raw ${rep}/${context.reps} ${describe(results.raw.at(-1))}`);
      await sleep(SETTLE_AFTER_CLOSE_MS);
    }
    if (context.sides.rtcmesh) {
      results.rtcmesh.push(await rtcmesh());
      context.log(`  ${what}: rtcmesh ${rep}/${context.reps} ${describe(results.rtcmesh.at(-1))}`);
      await sleep(SETTLE_AFTER_CLOSE_MS);
    }
  }
  return results;
}

function describe(value: unknown): string {
  if (typeof value === 'number') return round(value);
  if (value && typeof value === 'object') {
    return Object.entries(value)
      .map(([key, entry]) => `${key}=${typeof entry === 'number' ? round(entry) : String(entry)}`)
      .join(' ');
  }
  return String(value);
}

function round(value: number): string {
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toPrecision(3);
}

/** Picks one field from each result: `pick(results.raw, 'msgPerS')`. */
export function pick<T, K extends keyof T>(results: readonly T[], key: K): number[] {
  return results.map((result) => Number(result[key]));
}
