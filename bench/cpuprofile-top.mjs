// Sums the self time of each function in a V8 .cpuprofile (from `node --cpu-prof`, or from the
// browser scenario with RTCMESH_BENCH_BROWSER_PROFILE) and prints the top ones, with the source
// position: positions in the bench bundle and the browser page are mapped back to the .ts sources
// through dist-bench/main.js.map and page.js.map when source-map-js can be loaded.
//
//   node bench/cpuprofile-top.mjs <file.cpuprofile> [count=10]
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const [file, countArg = '10'] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: node bench/cpuprofile-top.mjs <file.cpuprofile> [count]\n');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8'));
const count = Number(countArg);

// Self time per node: each sample is charged the time until the next one (timeDeltas[n + 1]).
const selfUs = new Map();
for (let n = 0; n < profile.samples.length; n++) {
  const delta = profile.timeDeltas[n + 1] ?? 0;
  selfUs.set(profile.samples[n], (selfUs.get(profile.samples[n]) ?? 0) + delta);
}

// The bench bundle as node runs it, and the browser scenario's page as Chromium loads it (any port).
const bundles = [
  { matches: (url) => url === new URL('../dist-bench/main.js', import.meta.url).href, map: '../dist-bench/main.js.map' },
  { matches: (url) => /^http:\/\/127\.0\.0\.1:\d+\/page\.js$/.test(url), map: '../dist-bench/page.js.map' },
];
let SourceMapConsumer;
try {
  ({ SourceMapConsumer } = await import('source-map-js'));
} catch {
  // Without source-map-js, positions stay in the bundles.
}
for (const bundle of bundles) {
  const mapFile = fileURLToPath(new URL(bundle.map, import.meta.url));
  if (SourceMapConsumer && existsSync(mapFile)) bundle.consumer = new SourceMapConsumer(JSON.parse(readFileSync(mapFile, 'utf8')));
}

function where({ url, lineNumber, columnNumber }) {
  if (!url) return '(native)';
  const consumer = bundles.find((bundle) => bundle.matches(url))?.consumer;
  if (consumer) {
    const original = consumer.originalPositionFor({ line: lineNumber + 1, column: Math.max(0, columnNumber) });
    if (original.source) return `${original.source.replace(/^(\.\.\/)+/, '')}:${original.line}`;
  }
  return `${url.replace(/^file:\/\/\/work\/main\//, '')}:${lineNumber + 1}`;
}

let totalUs = 0;
const byFunction = new Map();
for (const node of profile.nodes) {
  const us = selfUs.get(node.id) ?? 0;
  totalUs += us;
  const name = node.callFrame.functionName || '(anonymous)';
  const key = `${name}  ${where(node.callFrame)}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + us);
}
const idle = [...byFunction].filter(([key]) => key.startsWith('(idle)')).reduce((sum, [, us]) => sum + us, 0);
process.stdout.write(`total ${(totalUs / 1000).toFixed(0)} ms sampled, ${(idle / 1000).toFixed(0)} ms idle\n`);
process.stdout.write('self ms   % busy  function  where\n');
for (const [key, us] of [...byFunction].filter(([k]) => !k.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, count)) {
  process.stdout.write(`${(us / 1000).toFixed(1).padStart(7)}  ${((100 * us) / (totalUs - idle)).toFixed(1).padStart(6)}  ${key}\n`);
}
