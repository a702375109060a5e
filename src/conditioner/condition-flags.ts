import { RtcError } from '../transport/errors.js';
import { checkConditions, type LinkConditions, PERFECT_LINK } from './link-conditions.js';

/** The command-line flags of a conditioned link, as `rtcmesh demo` and the arena sample take them. */
export const CONDITION_FLAGS = ['loss', 'delay', 'jitter', 'reorder', 'duplicate', 'bandwidth', 'seed'] as const;

/** One of {@link CONDITION_FLAGS}. */
export type ConditionFlag = (typeof CONDITION_FLAGS)[number];

/** What {@link readConditionFlags} makes of the flags. */
export interface ConditionFlagValues {
  /** The conditions the flags name; the others keep their {@link PERFECT_LINK} value. */
  conditions: Partial<LinkConditions>;
  /** `--seed`, or undefined when not given. */
  seed: number | undefined;
}

/** The help text of each flag, for a command's usage message. */
export const CONDITION_FLAG_HELP = [
  '--loss <percent>       datagrams lost, 0 to 100',
  '--delay <ms>           delay added to every datagram',
  '--jitter <ms>          extra delay, uniform from 0 to this (it can reorder too)',
  '--reorder <percent>    datagrams held back 20 ms so that later ones overtake them',
  '--duplicate <percent>  datagrams sent twice',
  '--bandwidth <rate>     the link\'s rate in bit/s, with k or m: 64k, 1.5m',
  '--seed <n>             seed of the random draws (default 1)',
].join('\n');

const PERCENT = 100;
const MAX_DELAY_MS = 60_000;
const MAX_SEED = 0xffff_ffff;
const RATE_UNITS: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9 };

function invalid(flag: ConditionFlag, text: string, expected: string): RtcError {
  return new RtcError('ERR_INVALID_PARAMETER', `--${flag} takes ${expected}, not "${text}"`);
}

function decimal(flag: ConditionFlag, text: string, max: number, expected: string): number {
  const value = /^\d*\.?\d+$/.test(text) ? Number(text) : NaN;
  if (!(value >= 0 && value <= max)) throw invalid(flag, text, expected);
  return value;
}

function rate(text: string): number {
  const match = /^(\d*\.?\d+)([kmg]?)$/i.exec(text);
  const value = match ? Number(match[1]) * RATE_UNITS[match[2]!.toLowerCase()]! : NaN;
  if (!(value >= 1 && Number.isFinite(value))) throw invalid('bandwidth', text, 'a rate in bit/s such as 64k or 1.5m');
  return value;
}

/**
 * Reads condition flags given as text (a command line's values; absent or undefined ones are not
 * set): percentages become probabilities, `--bandwidth 64k` 64000 bit/s.
 * @throws RtcError ERR_INVALID_PARAMETER naming the flag and what it takes.
 */
export function readConditionFlags(values: Partial<Record<ConditionFlag, string | undefined>>): ConditionFlagValues {
  const conditions: Partial<LinkConditions> = {};
  const text = (flag: ConditionFlag): string | undefined => values[flag];
  const percent = (flag: ConditionFlag): number | undefined => {
    const given = text(flag);
    return given === undefined ? undefined : decimal(flag, given, PERCENT, 'a percentage from 0 to 100') / PERCENT;
  };
  const ms = (flag: ConditionFlag): number | undefined => {
    const given = text(flag);
    return given === undefined ? undefined : decimal(flag, given, MAX_DELAY_MS, `milliseconds from 0 to ${MAX_DELAY_MS}`);
  };
  const set = <K extends keyof LinkConditions>(key: K, value: LinkConditions[K] | undefined): void => {
    if (value !== undefined) conditions[key] = value;
  };
  set('loss', percent('loss'));
  set('delayMs', ms('delay'));
  set('jitterMs', ms('jitter'));
  set('reorder', percent('reorder'));
  set('duplicate', percent('duplicate'));
  const bandwidth = text('bandwidth');
  if (bandwidth !== undefined) conditions.bandwidthBitsPerSecond = rate(bandwidth);
  checkConditions(conditions);
  const seedText = text('seed');
  let seed: number | undefined;
  if (seedText !== undefined) {
    seed = /^\d+$/.test(seedText) ? Number(seedText) : NaN;
    if (!(seed <= MAX_SEED)) throw invalid('seed', seedText, `an integer from 0 to ${MAX_SEED}`);
  }
  return { conditions, seed };
}

/** The flags that give `conditions` and `seed`, to pass on to another process. */
export function conditionFlagArgs({ conditions, seed }: ConditionFlagValues): string[] {
  const args: string[] = [];
  const add = (flag: ConditionFlag, value: number | undefined): void => {
    if (value !== undefined) args.push(`--${flag}`, String(value));
  };
  add('loss', conditions.loss === undefined ? undefined : conditions.loss * PERCENT);
  add('delay', conditions.delayMs);
  add('jitter', conditions.jitterMs);
  add('reorder', conditions.reorder === undefined ? undefined : conditions.reorder * PERCENT);
  add('duplicate', conditions.duplicate === undefined ? undefined : conditions.duplicate * PERCENT);
  add('bandwidth', conditions.bandwidthBitsPerSecond);
  add('seed', seed);
  return args;
}

/** Conditions in a few words, for a log line: `loss 10 %, delay 40 ms, jitter 20 ms`; `a perfect link` for none. */
export function describeConditions(conditions: Partial<LinkConditions>): string {
  const full = { ...PERFECT_LINK, ...conditions };
  const parts: string[] = [];
  const round = (value: number): string => String(Math.round(value * 1000) / 1000);
  if (full.loss > 0) parts.push(`loss ${round(full.loss * PERCENT)} %`);
  if (full.delayMs > 0) parts.push(`delay ${round(full.delayMs)} ms`);
  if (full.jitterMs > 0) parts.push(`jitter ${round(full.jitterMs)} ms`);
  if (full.reorder > 0) parts.push(`reorder ${round(full.reorder * PERCENT)} % (held ${round(full.reorderDelayMs)} ms)`);
  if (full.duplicate > 0) parts.push(`duplicate ${round(full.duplicate * PERCENT)} %`);
  if (full.bandwidthBitsPerSecond > 0) parts.push(`bandwidth ${round(full.bandwidthBitsPerSecond / 1000)} kbit/s`);
  return parts.length === 0 ? 'a perfect link' : parts.join(', ');
}

/** Whether any of the flags was given: a command conditions its connections only then. */
export function hasConditionFlags(values: Partial<Record<ConditionFlag, string | undefined>>): boolean {
  return CONDITION_FLAGS.some((flag) => values[flag] !== undefined);
}
