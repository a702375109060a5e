/**
 * The server process and the client processes of the server-capacity scenario. Each runs a 60 Hz
 * loop from the start (polling while the connections form), answers the benchmark's signals, and
 * once told to start, does the traffic, measures over the window and reports.
 */
import { type ClientsEnd, type ServerEnd, rawClients, rawServer, rtcmeshClients, rtcmeshServer } from './endpoints.js';
import { mainThreadCpuNs } from './main-thread-time.js';
import type { Command, Report, Run, Signal } from './protocol.js';
import { TickLoop } from './tick-loop.js';

function report(message: Report): void {
  process.send!(message);
}

/** Runs until told to close; `role` says which end this process is. */
export async function runCapacityProcess(role: 'server' | 'clients', argument: string): Promise<void> {
  const run = JSON.parse(argument) as Run;
  const send = (client: number, signal: Signal): void => report({ kind: 'signal', client, signal });
  const server: ServerEnd | undefined =
    role === 'server' ? (run.side === 'raw' ? rawServer(send) : rtcmeshServer(send)) : undefined;
  const clients: ClientsEnd | undefined =
    role === 'clients' ? (run.side === 'raw' ? rawClients(run.clients, send) : rtcmeshClients(run.clients, send)) : undefined;
  const expected = run.clients.length;
  const state = new Uint8Array(run.stateBytes);
  const input = new Uint8Array(run.inputBytes);

  let traffic = false;
  let measuring = false;
  let readySaid = false;
  let cpuAtStart = process.cpuUsage();
  let mainAtStart = mainThreadCpuNs();
  let wallAtStart = 0;
  const serverCounts = { statesSent: 0, inputsReceived: 0 };
  const clientCounts = { statesReceived: 0, inputsSent: 0 };
  const ages: number[] = [];

  const loop = new TickLoop(run.tickHz, () => {
    if (!traffic) {
      const connected = server ? server.connected() : clients!.connected();
      if (!readySaid && connected === expected) {
        readySaid = true;
        report({ kind: 'ready' });
      }
      return;
    }
    if (server) {
      const done = server.tick(state);
      if (measuring) {
        serverCounts.statesSent += done.statesSent;
        serverCounts.inputsReceived += done.inputsReceived;
      }
    } else {
      const done = clients!.tick(input, measuring ? ages : undefined);
      if (measuring) {
        clientCounts.statesReceived += done.statesReceived;
        clientCounts.inputsSent += done.inputsSent;
      }
    }
  });

  const finished = new Promise<void>((resolve) => {
    process.on('message', (message: Command) => {
      switch (message.kind) {
        case 'signal':
          (server ?? clients!).signal(message.client, message.signal);
          break;
        case 'start':
          traffic = true;
          setTimeout(() => {
            measuring = true;
            loop.resetCounts();
            cpuAtStart = process.cpuUsage();
            mainAtStart = mainThreadCpuNs();
            wallAtStart = performance.now();
          }, message.warmupMs);
          setTimeout(() => {
            measuring = false;
            if (server) {
              const cpu = process.cpuUsage(cpuAtStart);
              const mainNs = mainThreadCpuNs();
              const wallUs = (performance.now() - wallAtStart) * 1000;
              const mainThreadPct = mainNs === undefined || mainAtStart === undefined ? Number.NaN : (100 * (mainNs - mainAtStart)) / 1000 / wallUs;
              report({
                kind: 'server-result',
                result: { cpuPct: (100 * (cpu.user + cpu.system)) / wallUs, mainThreadPct, lateTicks: loop.lateTicks, ticks: loop.ticks, ...serverCounts },
              });
            } else {
              report({ kind: 'clients-result', result: { ages, ...clientCounts } });
            }
          }, message.warmupMs + message.durationMs);
          break;
        case 'close':
          loop.stop();
          void (server ?? clients!).close().then(() => {
            report({ kind: 'closed' });
            resolve();
          });
          break;
      }
    });
  });
  try {
    await finished;
  } catch (error) {
    report({ kind: 'failed', message: error instanceof Error ? error.message : String(error) });
  } finally {
    // main.ts calls cleanup() once the process's work is done.
    process.disconnect();
  }
}
