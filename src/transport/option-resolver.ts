// The one way every layer fills in its options' defaults and checks what a caller gave: a table
// of rules, and one wording for the RtcError that names the option, what it must be and what it
// was.
import { RtcError } from './errors.js';

/** What one option accepts. */
export interface OptionRule {
  /** What a value must be, completing "… must be": "an integer from 1 to 65535". */
  readonly expected: string;
  accepts(value: unknown): boolean;
}

/** One option: its default and its rule; `advice` says what to do when the rule alone does not. */
export interface OptionSpec<T> {
  readonly default: T;
  readonly rule: OptionRule;
  readonly advice?: string;
}

/** A spec for every option of `T`, the resolved options. */
export type OptionSpecs<T> = { readonly [K in keyof T]-?: OptionSpec<T[K]> };

/** An integer from `min` to `max`. */
export function integerRule(min: number, max = Number.MAX_SAFE_INTEGER): OptionRule {
  const expected =
    max !== Number.MAX_SAFE_INTEGER ? `an integer from ${min} to ${max}` : min === 1 ? 'a positive integer' : min === Number.MIN_SAFE_INTEGER ? 'an integer' : `an integer from ${min} up`;
  return { expected, accepts: (value) => Number.isInteger(value) && (value as number) >= min && (value as number) <= max };
}

/** A finite number above 0. */
export const POSITIVE_NUMBER: OptionRule = {
  expected: 'a finite number above 0',
  accepts: (value) => typeof value === 'number' && Number.isFinite(value) && value > 0,
};

/** A finite number, 0 or more: a duration or an amount. */
export const NON_NEGATIVE_NUMBER: OptionRule = {
  expected: 'a finite number, 0 or more',
  accepts: (value) => typeof value === 'number' && Number.isFinite(value) && value >= 0,
};

/** A number, 0 or more, Infinity included: a duration that may be endless. */
export const NON_NEGATIVE_OR_INFINITY: OptionRule = {
  expected: 'a number, 0 or more (Infinity for never)',
  accepts: (value) => typeof value === 'number' && value >= 0,
};

/** A number from 0 to 1. */
export const PROBABILITY: OptionRule = {
  expected: 'a probability from 0 to 1',
  accepts: (value) => typeof value === 'number' && value >= 0 && value <= 1,
};

export const BOOLEAN: OptionRule = { expected: 'true or false', accepts: (value) => typeof value === 'boolean' };

export const FUNCTION: OptionRule = { expected: 'a function', accepts: (value) => typeof value === 'function' };

/** Any string, the empty one included. */
export const STRING: OptionRule = { expected: 'a string', accepts: (value) => typeof value === 'string' };

/** A string that is not empty, described by an example. */
export function nonEmptyStringRule(example: string): OptionRule {
  return { expected: `a non-empty string such as ${example}`, accepts: (value) => typeof value === 'string' && value !== '' };
}

/** One of a few values. */
export function oneOfRule(values: readonly (string | number)[]): OptionRule {
  return { expected: `one of ${values.map((value) => JSON.stringify(value)).join(', ')}`, accepts: (value) => values.includes(value as string | number) };
}

/** What `rule` accepts, or null. */
export function orNullRule(rule: OptionRule): OptionRule {
  return { expected: `${rule.expected}, or null`, accepts: (value) => value === null || rule.accepts(value) };
}

/** The defaults of a table of specs. */
export function optionDefaults<T>(specs: OptionSpecs<T>): Readonly<T> {
  const defaults = {} as T;
  for (const key of Object.keys(specs) as (keyof T)[]) defaults[key] = specs[key].default;
  return Object.freeze(defaults);
}

/**
 * Every option of `specs`: the caller's value where it gave one (not undefined), else the default.
 * Options the specs do not name are left to the caller.
 * @throws RtcError ERR_INVALID_PARAMETER naming the first option given that its rule refuses, or
 * for `given` that is not an object.
 */
export function resolveOptions<T>(owner: string, specs: OptionSpecs<T>, given: unknown): T {
  if (given === undefined) given = {};
  if (given === null || typeof given !== 'object') {
    throw new RtcError('ERR_INVALID_PARAMETER', `${owner} must be an object of options, not ${describe(given)}.`);
  }
  const resolved = {} as T;
  for (const key of Object.keys(specs) as (keyof T & string)[]) {
    const spec = specs[key];
    const value = (given as Record<string, unknown>)[key];
    resolved[key] = value === undefined ? spec.default : (checkOption(owner, key, spec, value) as T[typeof key]);
  }
  return resolved;
}

/**
 * Checks the options of `specs` that `given` has, filling in nothing: for a change of some of them.
 * @throws RtcError ERR_INVALID_PARAMETER as {@link resolveOptions} does.
 */
export function checkOptions<T>(owner: string, specs: OptionSpecs<T>, given: unknown): void {
  resolveOptions(owner, specs, given);
}

/**
 * `value` when `spec.rule` accepts it.
 * @throws RtcError ERR_INVALID_PARAMETER "`owner`.`key` must be …, not …" otherwise.
 */
export function checkOption(owner: string, key: string, spec: Pick<OptionSpec<unknown>, 'rule' | 'advice'>, value: unknown): unknown {
  if (!spec.rule.accepts(value)) throw optionError(owner, key, spec.rule.expected, value, spec.advice);
  return value;
}

/** The error every option check throws: names the option, what it must be, what it was, and what to do. */
export function optionError(owner: string, key: string, expected: string, value: unknown, advice?: string): RtcError {
  return new RtcError('ERR_INVALID_PARAMETER', `${owner}.${key} must be ${expected}, not ${describe(value)}${advice ? `: ${advice}` : ''}.`);
}

/** A short account of a value for an error message; it may come from anywhere, so it is cut short. */
function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint' || value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
