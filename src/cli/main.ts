import { runPairDemo } from './pair-demo.js';

const USAGE = `usage: rtcmesh <command>

commands:
  demo      two peers in this process connect over loopback and exchange packets
  --help    this text`;

async function main(argv: string[]): Promise<number> {
  const [command] = argv;
  if (command === 'demo') return runPairDemo((line) => console.log(line));
  console.log(USAGE);
  return command === undefined || command === '--help' ? 0 : 2;
}

process.exitCode = await main(process.argv.slice(2));
