// `npm run arena:bots -- --count N --url ws://… --lobby …`: N headless bots in one process, on
// one game loop, until SIGINT or SIGTERM, or until every bot's game is over (the server went
// away). Exits 1 when a bot never got to play.
import { cleanup } from 'rtcmesh';
import { ArenaBot } from './arena-bot.js';
import { readArguments, usageError, wholeNumber } from './command-line.js';
import { MAX_PLAYERS } from './shared/rules.js';
import { startTicker } from './shared/ticker.js';

const USAGE = `usage: npm run arena:bots -- [--count <n>] --url <ws://host:port> --lobby <name>

  --count <n>      bots to start, 1 to ${MAX_PLAYERS} (default 1)
  --url <url>      the signaling server, as the arena server printed it
  --lobby <name>   the arena's lobby, as the arena server printed it`;

const EXIT_FAILURE = 1;

const { url, lobby, ...options } = readArguments(USAGE, process.argv.slice(2), ['count', 'url', 'lobby']);
const count = wholeNumber(USAGE, 'count', options.count, 1);
if (count < 1 || count > MAX_PLAYERS) usageError(USAGE, `--count takes 1 to ${MAX_PLAYERS} bots, not ${count}`);
if (url === undefined || lobby === undefined) usageError(USAGE, '--url and --lobby are required');

const bots: ArenaBot[] = [];
const reported = new Map<ArenaBot, string>();
let stopTicker: (() => void) | null = null;
let stopped = false;

/** Ends the loop and every bot; the process then exits by itself. */
function stop(): void {
  if (stopped) return;
  stopped = true;
  stopTicker?.();
  for (const bot of bots) bot.close();
  cleanup();
  if (!bots.every((bot) => bot.hasPlayed)) process.exitCode = EXIT_FAILURE;
}

/** Prints each bot's news once: that it plays, then why it stopped. */
function report(bot: ArenaBot): void {
  const news = { joining: '', playing: `bot: peer ${bot.id} plays`, ended: `bot: peer ${bot.id} stopped: ${bot.endReason}` }[bot.phase];
  if (news === '' || reported.get(bot) === news) return;
  reported.set(bot, news);
  console.log(news);
}

try {
  for (let n = 0; n < count; n++) bots.push(new ArenaBot(url, lobby));
} catch (error) {
  console.error(`bot: ${error instanceof Error ? error.message : String(error)}`);
  stop();
}
if (!stopped) {
  stopTicker = startTicker((ticks) => {
    for (const bot of bots) {
      bot.frame(ticks);
      report(bot);
    }
    if (bots.every((bot) => bot.phase === 'ended')) stop();
  });
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
