// The arena sample with the server on a conditioned link, as a user runs it (arena-match.ts).
import { it } from 'vitest';
import { CONDITION_ARGS, MATCH_TIMEOUT_MS, buildArena, playArenaMatch } from './arena-match.js';
import { describeInBrowser } from './netns.js';

describeInBrowser('the arena sample with the server on a conditioned link', () => {
  it(
    'two browser pages and a bot play with the server on a conditioned link: each page draws the others moving, and its overlay shows the round-trip time',
    async () => playArenaMatch(await buildArena('dist/test-conditioned'), CONDITION_ARGS),
    MATCH_TIMEOUT_MS,
  );
});
