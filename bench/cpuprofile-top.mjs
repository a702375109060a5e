// Sums the self time of each function in a V8 .cpuprofile (from `node --cpu-prof`) and prints the
// top ones, with the source position: positions in the bench bundle are mapped back to the .ts
// sources through dist-bench/main.js.map when source-map-js can be loaded.
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

const bundle = new URL('../dist-bench/main.js', import.meta.url).href;
const mapFile = fileURLToPath(new URL('../dist-bench/main.js.map', import.meta.url));
let consumer;
try {
  const { SourceMapConsumer } = await import('source-map-js');
  if (existsSync(mapFile)) consumer = new SourceMapConsumer(JSON.parse(readFileSync(mapFile, 'utf8')));
} catch {
  // Without source-map-js, positions stay in the bundle.
}

function where({ url, lineNumber, columnNumber }) {
  if (!url) return '(native)';
  if (url === bundle && consumer) {
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
