// `rtcmesh demo --cut-peer`: one peer's link cut mid-match, and every session resumed.
import { describe, expect, it } from 'vitest';
import { COUNT_COLUMNS, DEMO_WAIT_MS, RELIABLE_RECEIVED_COLUMN, RELIABLE_SENT_COLUMN, killProcessesAfterEach, run } from '../support/cli-process.js';

killProcessesAfterEach();

describe('rtcmesh demo --cut-peer', () => {
  it('cuts one peer mid-match with --cut-peer: it comes back with the same id, every session resumed, nothing reliable lost', async () => {
    const { code, stdout, stderr } = await run(['demo', '--peers', '3', '--seconds', '1', '--cut-peer', '2', '--cut-seconds', '3'], DEMO_WAIT_MS + 10_000);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const cutId = Number(/peer (\d+) \(started #2\): every datagram cut for 3 s/.exec(stdout)?.[1]);
    // The table's rows, with the two resumption columns after the counts.
    const rows = stdout
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .filter((cells) => cells.length === 5 + COUNT_COLUMNS + 2 && /^\d+$/.test(cells[0]!));
    expect(rows.map((cells) => Number(cells[0])).sort()).toContain(cutId);
    const cutRow = rows.find((cells) => Number(cells[0]) === cutId)!;
    expect(cutRow.at(-2)).toBe('2');
    expect(Number(cutRow.at(-1))).toBeGreaterThan(0);
    for (const cells of rows.filter((row) => row !== cutRow)) expect(cells.at(-2)).toBe('1');
    const counts = rows.map((cells) => cells.slice(5, 5 + COUNT_COLUMNS).map(Number));
    const total = (column: number): number => counts.reduce((sum, row) => sum + row[column]!, 0);
    expect(total(RELIABLE_RECEIVED_COLUMN)).toBe(total(RELIABLE_SENT_COLUMN));
  }, 60_000);
});
