// Bundles the arena into samples/arena/dist/ (or the directory under samples/arena/ given as the
// argument: the tests build one each): the server and the bots for Node.js (server.js, bot.js;
// rtcmesh and the libraries stay external, resolved at run time), and the browser client
// (public/index.html and public/main.js, everything in one file, as any bundler would make it).
import { copyFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = fileURLToPath(new URL('.', import.meta.url));
// Inside samples/arena/, so that the programs resolve 'rtcmesh' to this repository's package.
const out = process.argv[2] ?? 'dist';
const common = { absWorkingDir: here, bundle: true, format: 'esm', sourcemap: true, logLevel: 'warning' };

mkdirSync(`${here}${out}/public`, { recursive: true });
await Promise.all([
  build({ ...common, entryPoints: ['server.ts', 'bot.ts'], outdir: out, platform: 'node', target: 'node20', packages: 'external' }),
  build({ ...common, entryPoints: ['client/main.ts'], outfile: `${out}/public/main.js`, platform: 'browser', target: 'es2022' }),
]);
copyFileSync(`${here}client/index.html`, `${here}${out}/public/index.html`);
