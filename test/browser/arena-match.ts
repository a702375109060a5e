// One match of the arena sample as a user plays it: its server and a bot as the programs
// `npm run arena` and `npm run arena:bots` start, and two players in Chromium pages. The test
// files build the sample (each into a directory of its own, so that they may run side by side)
// and play a match each.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { expect } from 'vitest';
import type { ArenaView } from '../../samples/arena/client/arena-view.js';
import { WORLD_WIDTH } from '../../samples/arena/shared/rules.js';
import { launchChromium, openPage } from '../../bench/browser/chromium.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BUILD = 'samples/arena/build.mjs';
/**
 * How long one match may take, the sample built, the programs and the browser started and stopped:
 * 8 s here, 36 s with the machine at a load of 17.
 */
export const MATCH_TIMEOUT_MS = 90_000;
const START_TIMEOUT_MS = 15_000;
const EXIT_TIMEOUT_MS = 5_000;
// Two pages and a bot: each page sees three players, itself included.
const PLAYERS = 3;
// How long the players are watched moving at least, and how often their positions are read meanwhile.
const WATCH_MS = 1500;
const WATCH_SAMPLES = 6;
// A player who covers less than this in the watch has not been seen moving (a player moves 200 a
// second). A loaded machine may run the server's ticks or the pages' frames late: the watch then
// goes on, a sample at a time, until every page has seen every other player cover it.
const MIN_PATH = 20;
// Two frames a second and a half apart, with three players moving, differ in far more pixels than this.
const MIN_CHANGED_PIXELS = 200;
// A snapshot arrives every 17 ms: one that comes after the watch shows they did not stop.
const SNAPSHOT_TIMEOUT_MS = 5_000;

const run = promisify(execFile);

/** A program of the sample, started as `node <script> ...args`, with what it printed. */
interface Program {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

function startProgram(script: string, args: string[]): Program {
  const child = spawn(process.execPath, [script, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** Stops a program with SIGTERM and resolves with its exit code; kills it if it does not end by itself. */
async function stopProgram(program: Program): Promise<number | null> {
  program.child.kill('SIGTERM');
  const timer = setTimeout(() => program.child.kill('SIGKILL'), EXIT_TIMEOUT_MS);
  const code = await program.exited;
  clearTimeout(timer);
  return code;
}

function viewOf(page: Page): Promise<ArenaView> {
  return page.evaluate(() => window.arena);
}

/** Pixels that differ between two PNG images of the same size, counted by the page's own decoder. */
function changedPixels(page: Page, before: Buffer, after: Buffer): Promise<number> {
  return page.evaluate(
    async ([a, b]) => {
      const decode = async (base64: string): Promise<Uint8ClampedArray> => {
        const image = await createImageBitmap(await (await fetch(`data:image/png;base64,${base64}`)).blob());
        const context = new OffscreenCanvas(image.width, image.height).getContext('2d')!;
        context.drawImage(image, 0, 0);
        return context.getImageData(0, 0, image.width, image.height).data;
      };
      const [pixelsA, pixelsB] = await Promise.all([decode(a), decode(b)]);
      let changed = 0;
      for (let at = 0; at < pixelsA.length; at += 4) {
        if (pixelsA[at] !== pixelsB[at] || pixelsA[at + 1] !== pixelsB[at + 1] || pixelsA[at + 2] !== pixelsB[at + 2]) changed++;
      }
      return changed;
    },
    [before.toString('base64'), after.toString('base64')] as const,
  );
}

/** The distance each player other than the page's own covered over a series of views. */
function pathsOfOthers(views: ArenaView[]): Map<number, number> {
  const paths = new Map<number, number>();
  for (let n = 1; n < views.length; n++) {
    for (const player of views[n]!.players) {
      const before = views[n - 1]!.players.find((other) => other.id === player.id);
      if (player.id === views[n]!.id || !before) continue;
      paths.set(player.id, (paths.get(player.id) ?? 0) + Math.hypot(player.x - before.x, player.y - before.y));
    }
  }
  return paths;
}

/** The server's link conditions in the conditioned run: 30 ms each way, so a round trip of 60 ms at least. */
export const CONDITION_ARGS = ['--loss', '5', '--delay', '30', '--jitter', '10', '--seed', '2'];
const CONDITIONED_MIN_RTT_MS = 60;

/** Builds the sample into samples/arena/`dir`; resolves with the path of that directory from the repository's root. */
export async function buildArena(dir: string): Promise<string> {
  await run(process.execPath, [BUILD, dir], { cwd: ROOT });
  return `samples/arena/${dir}`;
}

/**
 * Plays a match with the build in `build`, the server's link conditioned by `conditionArgs`
 * (none: a clean link): each page draws the others moving, and its overlay shows the round-trip time.
 */
export async function playArenaMatch(build: string, conditionArgs: readonly string[]): Promise<void> {
  const server = startProgram(`${build}/server.js`, ['--http-port', '0', '--signaling-port', '0', ...conditionArgs]);
  const programs = [server];
  let browser: Browser | undefined;
  try {
    await expect.poll(() => server.output(), { timeout: START_TIMEOUT_MS }).toMatch(/arena: open (\S+)/);
    const pageUrl = new URL(/arena: open (\S+)/.exec(server.output())![1]!);
    const bot = startProgram(`${build}/bot.js`, ['--count', '1', '--url', pageUrl.searchParams.get('signaling')!, '--lobby', pageUrl.searchParams.get('lobby')!]);
    programs.push(bot);
    browser = await launchChromium();
    const players = [await openPage(browser), await openPage(browser)];
    const pages = players.map(({ page }) => page);
    await Promise.all(pages.map((page) => page.goto(pageUrl.href)));

    for (const page of pages) {
      await expect
        .poll(async () => {
          const view = await viewOf(page);
          // The players drawn are set at the page's next frame, which may come after the spawns.
          const drawn = view.players.some((player) => player.id === view.id);
          return view.phase === 'playing' && view.seenPlayerIds.length === PLAYERS && view.rttMs !== null && drawn;
        }, { timeout: START_TIMEOUT_MS })
        .toBe(true);
    }
    // Each page's player heads for the far side, so that no wall stops it while watched.
    for (const page of pages) {
      const view = await viewOf(page);
      const me = view.players.find((player) => player.id === view.id)!;
      await page.keyboard.down(me.x < WORLD_WIDTH / 2 ? 'KeyD' : 'KeyA');
    }
    await pages[0]!.keyboard.down('Space');

    const canvases = pages.map((page) => page.locator('#arena'));
    const firstShots = await Promise.all(canvases.map((canvas) => canvas.screenshot()));
    const views: ArenaView[][] = pages.map(() => []);
    const seenMoving = (): boolean =>
      views.every((seen) => {
        const paths = pathsOfOthers(seen);
        return paths.size === PLAYERS - 1 && [...paths.values()].every((path) => path > MIN_PATH);
      });
    const watchEnd = Date.now() + START_TIMEOUT_MS;
    for (let sample = 0; sample < WATCH_SAMPLES || (!seenMoving() && Date.now() < watchEnd); sample++) {
      if (sample > 0) await sleep(WATCH_MS / (WATCH_SAMPLES - 1));
      for (const [n, page] of pages.entries()) views[n]!.push(await viewOf(page));
    }
    const lastShots = await Promise.all(canvases.map((canvas) => canvas.screenshot()));

    for (const [n, page] of pages.entries()) {
      const paths = pathsOfOthers(views[n]!);
      expect([...paths.keys()], 'the other players drawn').toHaveLength(PLAYERS - 1);
      for (const [id, path] of paths) expect(path, `the distance peer ${id} covered`).toBeGreaterThan(MIN_PATH);
      expect(await changedPixels(page, firstShots[n]!, lastShots[n]!)).toBeGreaterThan(MIN_CHANGED_PIXELS);
      expect(await page.locator('#overlay').textContent()).toMatch(/rtt \d+\.\d ms/);
      if (conditionArgs.length > 0) expect(views[n]!.at(-1)!.rttMs).toBeGreaterThanOrEqual(CONDITIONED_MIN_RTT_MS);
      const lastSnapshotAt = await page.evaluate(() => window.arena.lastSnapshotAt);
      await expect.poll(() => page.evaluate(() => window.arena.lastSnapshotAt), { timeout: SNAPSHOT_TIMEOUT_MS }).toBeGreaterThan(lastSnapshotAt);
      expect(players[n]!.errors).toEqual([]);
    }
    await browser.close();
    browser = undefined;
    // Both programs end by themselves on SIGTERM, having closed everything.
    expect(await stopProgram(bot), bot.output()).toBe(0);
    expect(await stopProgram(server), server.output()).toBe(0);
    if (conditionArgs.length > 0) expect(server.output()).toMatch(/conditioner, outgoing: \d+ datagrams, [1-9]\d* lost/);
  } finally {
    await browser?.close();
    for (const program of programs) if (program.child.exitCode === null) program.child.kill('SIGKILL');
  }
}
