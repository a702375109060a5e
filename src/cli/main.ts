// The `rtcmesh` command: picks the command named by the first argument and runs it.
import { CONDITION_FLAG_HELP } from '../index.js';
import { EXIT_USAGE, type Output, UsageError } from './command-line.js';
import { runDemoCommand } from './demo-command.js';
import { runDemoPeer } from './demo-peer.js';
import { DEMO_PEER_COMMAND } from './peer-process.js';
import { runSignalCommand, SIGNAL_USAGE } from './signal-command.js';

const USAGE = `usage: rtcmesh <command> [options]

commands:
  signal    Run a lobby signaling server (the protocol of Godot's webrtc_signaling demo) until
            SIGINT or SIGTERM. Prints its URL, then one line per lobby opened, sealed or closed,
            per peer joining or leaving, and per socket it closes for a fault.
      --host <address>   address to bind (default 127.0.0.1; 0.0.0.0 serves every interface)
      --port <port>      TCP port, 0 for any free one (default 9080)
      every limit, rate and the metrics port too: see rtcmesh signal --help

  demo      A local match on 127.0.0.1: a signaling server and N peers, each a process of its
            own, join one lobby, connect, exchange traffic at 60 Hz (state on the unreliable
            channel, events on the reliable one, an echoed ping on the ordered one) and report.
            Prints one table: per peer, join and full-mesh times, round-trip p50 and p99, and
            packets sent, received and dropped on each channel. Exits 0 when every peer connected
            and reported, 1 with the reason otherwise.
      --peers <n>        number of peers, 2 to 16 (default 4)
      --seconds <s>      seconds of traffic once connected (default 5)
      --mode <mode>      mesh: every peer connects to every other (default);
                         server: the host is the server and every other peer connects to it only
      --cut-peer <n>     cut every datagram of the n-th peer started, 1 s into the traffic, then
                         restore it: sessions resume (same ids, nothing reliable lost or doubled)
                         and the table shows them; the traffic lasts at least 4 s past the cut
      --cut-seconds <s>  how long the cut lasts, up to 60 (default 5)
            With any of the flags below, every direction of every connection crosses a network
            conditioner with those settings, and a second table shows what it did and what
            rtcmesh dropped, by reason.
${CONDITION_FLAG_HELP.replace(/^/gm, '      ')}

  -h, --help  show this text (also after a command)

exit codes: 0 success, 1 failure, 2 bad command line, 130 interrupted`;

type Command = (args: string[], output: Output) => Promise<number>;

// demo-peer is the demo's child process, not a command for people: --help leaves it out.
const COMMANDS = new Map<string, Command>([
  ['signal', runSignalCommand],
  ['demo', runDemoCommand],
  [DEMO_PEER_COMMAND, runDemoPeer],
]);

const HELP_FLAGS = ['-h', '--help'];

// Commands with more options than the overview lists have a help text of their own.
const COMMAND_USAGE = new Map([['signal', SIGNAL_USAGE]]);

const consoleOutput: Output = {
  log: (line) => console.log(line),
  error: (line) => console.error(line),
};

/** Runs the command line `argv` (without node and the script) and resolves with the exit code. */
async function main(argv: string[], output: Output): Promise<number> {
  const [name, ...args] = argv;
  if (name === 'help' || argv.some((arg) => HELP_FLAGS.includes(arg))) {
    output.log((name !== undefined && COMMAND_USAGE.get(name)) || USAGE);
    return 0;
  }
  const command = name === undefined ? undefined : COMMANDS.get(name);
  if (command === undefined) {
    const fault = name === undefined ? 'no command given' : `unknown command "${name}"`;
    output.error(`rtcmesh: ${fault}\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  try {
    return await command(args, output);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    output.error(`rtcmesh ${name}: ${error.message}\nrun "rtcmesh --help" for the commands and their options`);
    return EXIT_USAGE;
  }
}

process.exitCode = await main(process.argv.slice(2), consoleOutput);
