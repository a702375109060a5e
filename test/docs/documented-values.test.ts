// The tables of docs/ name defaults, limits and drop reasons: each must be the exported value, and
// every exported default must have its row. The numbers are read from the documents, never
// written here.
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_RPC_LIMITS,
  DROP_REASONS,
  MEMORY_BACKEND_DEFAULTS,
  MEMORY_LINK_DEFAULTS,
  MESH_OPTION_DEFAULTS,
  MULTIPLAYER_API_DEFAULTS,
  PEER_CONNECTION_DEFAULTS,
  PERFECT_LINK,
  REPLICATION_DROP_REASONS,
  SPAWNER_OPTION_DEFAULTS,
  cleanup,
} from '../../src/index.js';

afterAll(() => cleanup());

interface Table {
  header: string[];
  rows: string[][];
}

const UNITS: Readonly<Record<string, number>> = { KiB: 1024, MiB: 1024 * 1024 };

/** Every table of a document in docs/, list items' tables included. */
function tables(document: string): Table[] {
  const found: Table[] = [];
  let current: Table | undefined;
  for (const line of readFileSync(new URL(`../../docs/${document}`, import.meta.url), 'utf8').split('\n')) {
    const text = line.trim();
    if (!text.startsWith('|')) {
      current = undefined;
      continue;
    }
    // A `\|` inside a cell is text, not a border.
    const cells = text.slice(1, text.endsWith('|') ? -1 : undefined).split(/(?<!\\)\|/).map((cell) => cell.trim());
    if (!current) found.push((current = { header: cells, rows: [] }));
    else if (!cells.every((cell) => /^:?-+:?$/.test(cell))) current.rows.push(cells);
  }
  return found;
}

/** The name a row is about: the first code span of its first cell. */
function rowKey(row: readonly string[]): string {
  return /`([^`]+)`/.exec(row[0] ?? '')?.[1] ?? row[0] ?? '';
}

/** A documented default as a value: a number (with KiB or MiB), a boolean or a quoted string; undefined for prose. */
function documentedValue(cell: string): unknown {
  const text = cell.replaceAll('`', '');
  const bool = /^(true|false)\b/.exec(text);
  if (bool) return bool[1] === 'true';
  const quoted = /^'([^']*)'/.exec(text);
  if (quoted) return quoted[1];
  const number = /^(\d+(?:\.\d+)?)(?:\s*(KiB|MiB))?(?![\w.])/.exec(text);
  if (number) return Number(number[1]) * (number[2] ? UNITS[number[2]]! : 1);
  return undefined;
}

/** The table of `document` with a `default` column whose rows name the most of `keys`. */
function defaultsTable(document: string, keys: readonly string[]): Table {
  let best: { table: Table; overlap: number } | undefined;
  for (const table of tables(document)) {
    if (table.header[1] !== 'default') continue;
    const overlap = table.rows.filter((row) => keys.includes(rowKey(row))).length;
    if (overlap > (best?.overlap ?? 0)) best = { table, overlap };
  }
  if (!best) throw new Error(`${document} has no table of defaults naming any of ${keys.join(', ')}`);
  return best.table;
}

/** Compares a table with an exported object of defaults; returns how many values it compared. */
function checkDefaults(document: string, exported: Readonly<Record<string, unknown>>): number {
  const table = defaultsTable(document, Object.keys(exported));
  const documented = table.rows.map(rowKey);
  expect(Object.keys(exported).filter((key) => !documented.includes(key)), `defaults with no row in ${document}`).toEqual([]);
  const compared = table.rows
    .filter((row) => rowKey(row) in exported && documentedValue(row[1]!) !== undefined)
    .map((row) => ({ key: rowKey(row), documented: documentedValue(row[1]!), exported: exported[rowKey(row)] }));
  expect(compared.filter((entry) => entry.documented !== entry.exported), `values of ${document} that differ from the code`).toEqual([]);
  return compared.length;
}

/** The reasons of the drop table in `document` that names the most of `reasons`. */
function documentedReasons(document: string, reasons: readonly string[]): string[] {
  const candidates = tables(document).filter((table) => table.header[0] === 'reason');
  const overlap = (table: Table): number => table.rows.filter((row) => reasons.includes(rowKey(row))).length;
  const table = candidates.sort((x, y) => overlap(y) - overlap(x))[0];
  if (!table || overlap(table) === 0) throw new Error(`${document} has no table of drop reasons naming any of ${reasons.join(', ')}`);
  return table.rows.map(rowKey);
}

describe('the defaults in docs/ are the exported values', () => {
  it.each([
    ['api.md', 'PeerConnectionConfig', PEER_CONNECTION_DEFAULTS],
    ['api.md', 'MeshOptions', MESH_OPTION_DEFAULTS],
    ['api.md', 'MultiplayerAPIOptions', MULTIPLAYER_API_DEFAULTS],
    ['api.md', 'RpcLimits', DEFAULT_RPC_LIMITS],
    ['api.md', 'LinkConditions (NetworkConditioner)', PERFECT_LINK],
    ['api.md', 'MemoryBackendOptions', MEMORY_BACKEND_DEFAULTS],
    ['api.md', 'MemoryLinkConditions', MEMORY_LINK_DEFAULTS],
    ['wire-format.md', 'RpcLimits', DEFAULT_RPC_LIMITS],
    ['replication.md', 'SpawnerOptions', SPAWNER_OPTION_DEFAULTS],
  ] as const)('%s: %s', (document, _what, exported) => {
    expect(checkDefaults(document, exported as Readonly<Record<string, unknown>>)).toBeGreaterThan(0);
  });

  it('the value parser reads the forms the tables use', () => {
    expect(['1536 (1.5 KiB)', '3 MiB', '`true`', "`'any'`", '0 (none)', 'none'].map(documentedValue)).toEqual([
      1536,
      3 * 1024 * 1024,
      true,
      'any',
      0,
      undefined,
    ]);
  });
});

describe('the drop reasons in docs/ are the exported ones, in order', () => {
  it('api.md: the mesh\'s DROP_REASONS', () => {
    expect(documentedReasons('api.md', DROP_REASONS)).toEqual([...DROP_REASONS]);
  });

  it("wire-format.md: the receiver's checks, each a reason of DROP_REASONS", () => {
    const text = readFileSync(new URL('../../docs/wire-format.md', import.meta.url), 'utf8');
    const checks = [...text.matchAll(/^\d+\. \*\*`(\w+)`\*\*/gm)].map((match) => match[1]!);
    expect(checks.length).toBeGreaterThan(0);
    expect(checks.filter((reason) => !(DROP_REASONS as readonly string[]).includes(reason))).toEqual([]);
  });

  it('replication.md: REPLICATION_DROP_REASONS', () => {
    expect(documentedReasons('replication.md', REPLICATION_DROP_REASONS)).toEqual([...REPLICATION_DROP_REASONS]);
  });
});
