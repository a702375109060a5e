// The arena sample on a clean link, as a user runs it (arena-match.ts).
import { it } from 'vitest';
import { MATCH_TIMEOUT_MS, buildArena, playArenaMatch } from './arena-match.js';
import { describeInBrowser } from './netns.js';

describeInBrowser('the arena sample on a clean link', () => {
  it(
    'two browser pages and a bot play on a clean link: each page draws the others moving, and its overlay shows the round-trip time',
    async () => playArenaMatch(await buildArena('dist/test-clean'), []),
    MATCH_TIMEOUT_MS,
  );
});
