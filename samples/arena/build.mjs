// Bundles the arena into samples/arena/dist/: the server and the bots for Node.js (server.js,
// bot.js; the libraries stay external, resolved from node_modules), and the browser client
// (public/index.html and public/main.js, everything in one file, as any bundler would make it).
import { copyFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = fileURLToPath(new URL('.', import.meta.url));
const common = { absWorkingDir: here, bundle: true, format: 'esm', sourcemap: true, logLevel: 'warning' };

mkdirSync(`${here}dist/public`, { recursive: true });
await Promise.all([
  build({ ...common, entryPoints: ['server.ts', 'bot.ts'], outdir: 'dist', platform: 'node', target: 'node20', packages: 'external' }),
  build({ ...common, entryPoints: ['client/main.ts'], outfile: 'dist/public/main.js', platform: 'browser', target: 'es2022' }),
]);
copyFileSync(`${here}client/index.html`, `${here}dist/public/index.html`);
