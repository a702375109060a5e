// The order vitest starts test files in. Its own puts the files that took longest last time first,
// and, where it has no record (a fresh clone, as in CI), the largest: a short file that waits half
// a minute on a fixed-length run would then start last and hold up the end of the suite.
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** Files that run for a fixed, long time whatever the machine: they start first, in this order. */
const LONG_FILES = ['test/faults/lossy-reliable.test.ts', 'test/faults/signaling-load.test.ts', 'test/bench/bench.test.ts', 'test/browser/namespace.test.ts'];

/**
 * The W3C project's files come next, not after every file of the other project as vitest would
 * run them: their worker then runs beside the others rather than alone at the end.
 */
const W3C_PROJECT = 'w3c-polyfill';

function rank(spec: TestSpecification): number {
  const index = LONG_FILES.findIndex((file) => spec.moduleId.endsWith(`/${file}`));
  if (index >= 0) return index;
  return spec.project.name === W3C_PROJECT ? LONG_FILES.length : LONG_FILES.length + 1;
}

export class LongFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    // Array sort is stable: the other files keep vitest's order.
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}
