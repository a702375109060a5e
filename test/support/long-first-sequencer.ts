// The order vitest starts test files in. Its own puts the files that took longest last time first,
// and, where it has no record (a fresh clone, as in CI), the largest: a short file that waits half
// a minute on a fixed-length run would then start last and hold up the end of the suite.
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** Files that run for a fixed, long time whatever the machine: they start first, in this order. */
const LONG_FILES = ['test/faults/lossy-reliable.test.ts', 'test/faults/signaling-load.test.ts', 'test/bench/bench.test.ts', 'test/browser/namespace.test.ts'];

function rank(spec: TestSpecification): number {
  const index = LONG_FILES.findIndex((file) => spec.moduleId.endsWith(`/${file}`));
  return index < 0 ? LONG_FILES.length : index;
}

export class LongFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    // Array sort is stable: the other files keep vitest's order.
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}
