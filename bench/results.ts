/**
 * The results: rows of measurements with their targets, the table printed to stdout, and
 * bench/results.md with the machine and versions they were measured on.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join } from 'node:path';
import nodeDataChannel from 'node-datachannel';
import { median } from '../src/cli/statistics.js';

/** A target a figure is held to, printed beside it. */
export interface Target {
  /** How the table states it, e.g. `≥ 0.95 × raw`. */
  text: string;
  /** Whether it compares with the raw figure (and cannot be judged without one). */
  needsRaw: boolean;
  /** Whether the medians meet it. */
  met(raw: number, rtcmesh: number): boolean;
}

/** rtcmesh must reach at least `factor` times the raw figure. */
export function ratioAtLeast(factor: number): Target {
  return { text: `≥ ${factor} × raw`, needsRaw: true, met: (raw, rtcmesh) => rtcmesh / raw >= factor };
}

/** rtcmesh may take at most `factor` times the raw figure. */
export function ratioAtMost(factor: number): Target {
  return { text: `≤ ${factor} × raw`, needsRaw: true, met: (raw, rtcmesh) => rtcmesh / raw <= factor };
}

/** rtcmesh's figure must be at least `value`. */
export function atLeast(value: number, unit: string): Target {
  return { text: `≥ ${formatNumber(value)} ${unit}`, needsRaw: false, met: (_raw, rtcmesh) => rtcmesh >= value };
}

/** rtcmesh's figure must be at most `value`. */
export function atMost(value: number, unit: string): Target {
  return { text: `≤ ${formatNumber(value)} ${unit}`, needsRaw: false, met: (_raw, rtcmesh) => rtcmesh <= value };
}

/** rtcmesh's figure must stay under `value`. */
export function below(value: number, unit: string): Target {
  return { text: `< ${formatNumber(value)} ${unit}`, needsRaw: false, met: (_raw, rtcmesh) => rtcmesh < value };
}

/** One figure: every repetition's value on each side (raw empty where nothing compares). */
export interface Row {
  scenario: string;
  /** What is measured, with its unit: `reliable 1 KiB, MB/s`. */
  metric: string;
  raw: number[];
  rtcmesh: number[];
  target?: Target;
}

/** A row reduced to its medians. */
export interface Summary {
  scenario: string;
  metric: string;
  raw: number;
  rtcmesh: number;
  ratio: number;
  target: string;
  /** undefined without a target (or without the figures it needs). */
  met: boolean | undefined;
  reps: number;
}

export function summarize(row: Row): Summary {
  const raw = median(row.raw);
  const rtcmesh = median(row.rtcmesh);
  const ratio = rtcmesh / raw;
  const judgeable = row.target && Number.isFinite(rtcmesh) && (!row.target.needsRaw || Number.isFinite(raw));
  return {
    scenario: row.scenario,
    metric: row.metric,
    raw,
    rtcmesh,
    ratio,
    target: row.target?.text ?? '',
    met: judgeable ? row.target!.met(raw, rtcmesh) : undefined,
    reps: Math.max(row.raw.length, row.rtcmesh.length),
  };
}

/** A figure for the table: three significant digits, thousands grouped, `—` for none. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return '—';
  const magnitude = Math.abs(value);
  const digits = magnitude >= 100 ? 0 : magnitude >= 10 ? 1 : magnitude >= 1 ? 2 : 3;
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

const HEADERS = ['scenario', 'metric', 'raw', 'rtcmesh', 'rtcmesh / raw', 'target', 'met'];

/** The summaries as a Markdown table, padded so that it also reads as plain text. */
export function formatTable(summaries: readonly Summary[]): string {
  const cells = summaries.map((s) => [
    s.scenario,
    s.metric,
    formatNumber(s.raw),
    formatNumber(s.rtcmesh),
    Number.isFinite(s.ratio) ? `${s.ratio.toFixed(2)}×` : '—',
    s.target || '—',
    s.met === undefined ? '—' : s.met ? 'yes' : 'NO',
  ]);
  const widths = HEADERS.map((header, n) => Math.max(header.length, ...cells.map((row) => row[n]!.length)));
  const line = (row: readonly string[]): string => `| ${row.map((cell, n) => cell.padEnd(widths[n]!)).join(' | ')} |`;
  return [line(HEADERS), `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`, ...cells.map(line)].join('\n');
}

/** Where and with what the figures were measured. */
export interface Environment {
  date: string;
  cores: number;
  cpu: string;
  node: string;
  nodeDataChannel: string;
  libdatachannel: string;
  rtcmesh: string;
  /** The source bundled: its commit, and whether src/ differed from it (bench/build.mjs records it). */
  source: string;
  /** The 1-minute load average when the run started: other work on the machine skews every figure. */
  loadAverage: number;
}

export function environment(): Environment {
  const cpus = os.cpus();
  const library = (nodeDataChannel as { getLibraryVersion?: () => string }).getLibraryVersion;
  return {
    date: new Date().toISOString(),
    cores: cpus.length,
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    node: process.version,
    nodeDataChannel: nodeDataChannelVersion(),
    libdatachannel: library ? library() : 'unknown',
    // Relative to the bundle, dist-bench/main.js.
    rtcmesh: readPackageVersion(new URL('../package.json', import.meta.url)),
    source: describeSource(),
    loadAverage: os.loadavg()[0] ?? Number.NaN,
  };
}

// What bench/build.mjs recorded of the source it bundled.
function describeSource(): string {
  try {
    // Relative to the bundle, dist-bench/main.js.
    const info = JSON.parse(readFileSync(new URL('./build-info.json', import.meta.url), 'utf8')) as { source?: string };
    return info.source ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

// node-datachannel's exports map hides its package.json: find it above its entry point.
function nodeDataChannelVersion(): string {
  try {
    let dir = dirname(createRequire(import.meta.url).resolve('node-datachannel'));
    for (;;) {
      const manifest = join(dir, 'package.json');
      try {
        const parsed = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; version?: string };
        if (parsed.name === 'node-datachannel') return parsed.version ?? 'unknown';
      } catch {
        // No manifest here: look one level up.
      }
      const parent = dirname(dir);
      if (parent === dir) return 'unknown';
      dir = parent;
    }
  } catch {
    return 'unknown';
  }
}

function readPackageVersion(manifest: URL): string {
  try {
    return (JSON.parse(readFileSync(manifest, 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The run's settings, as the results file states them. */
export interface RunDescription {
  mode: string;
  reps: number;
  gcExposed: boolean;
  failures: string[];
  /** Connection setups that failed and were retried (see retry.ts), as `what ×n`. */
  retriedSetups: string[];
}

/** Writes the results file: environment, table, what each figure means. */
export function writeResults(file: string, env: Environment, run: RunDescription, summaries: readonly Summary[], notes: readonly string[]): void {
  const missed = summaries.filter((s) => s.met === false);
  const text = [
    '# rtcmesh benchmarks',
    '',
    'Written by `npm run bench` (bench/main.ts), on this machine, at the date below.',
    '',
    `- Date: ${env.date}`,
    `- Machine: ${env.cores} cores, ${env.cpu}; load average ${env.loadAverage.toFixed(2)} when the run started`,
    `- Node.js: ${env.node}`,
    `- node-datachannel: ${env.nodeDataChannel} (libdatachannel ${env.libdatachannel})`,
    `- rtcmesh: ${env.rtcmesh}, ${env.source}`,
    `- Run: ${run.mode}, ${run.reps} repetition(s) per side, raw and rtcmesh alternating; figures are medians` +
      `${run.gcExposed ? '' : ' (no --expose-gc: memory figures are rough)'}`,
    '',
    formatTable(summaries),
    '',
    missed.length === 0
      ? 'Every target is met.'
      : `Targets missed: ${missed.map((s) => `${s.scenario} ${s.metric} (${formatNumber(s.rtcmesh)} against ${s.target})`).join('; ')}.`,
    ...(run.failures.length > 0 ? ['', `Scenarios that failed: ${run.failures.join('; ')}.`] : []),
    ...(run.retriedSetups.length > 0 ? ['', `Connection setups that failed and were retried: ${run.retriedSetups.join(', ')}.`] : []),
    '',
    '## What the figures are',
    '',
    ...notes.map((note) => `- ${note}`),
    '',
  ].join('\n');
  writeFileSync(file, text);
}
