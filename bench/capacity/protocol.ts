/**
 * What the server-capacity scenario's processes say to each other over IPC: the benchmark relays
 * descriptions and candidates between the server process and the client processes, as a signaling
 * server would, then starts the ticks and collects what each measured.
 */

export const SERVER_FLAG = '--capacity-server';
export const CLIENTS_FLAG = '--capacity-clients';

/** A client's or the server's handshake message for one client's connection. */
export type Signal =
  | { kind: 'description'; type: 'offer' | 'answer'; sdp: string }
  | { kind: 'candidate'; candidate: string; mid: string };

export interface Run {
  side: 'raw' | 'rtcmesh';
  /** Client ids, 2 and up (1 is the server). */
  clients: number[];
  tickHz: number;
  inputBytes: number;
  stateBytes: number;
}

/** From the benchmark to a process. */
export type Command =
  | { kind: 'signal'; client: number; signal: Signal }
  | { kind: 'start'; warmupMs: number; durationMs: number }
  | { kind: 'close' };

/** From a process to the benchmark. */
export type Report =
  | { kind: 'signal'; client: number; signal: Signal }
  | { kind: 'ready' }
  | { kind: 'server-result'; result: ServerResult }
  | { kind: 'clients-result'; result: ClientsResult }
  | { kind: 'closed' }
  | { kind: 'failed'; message: string };

export interface ServerResult {
  /** process.cpuUsage() over the measured window, engine threads included, in % of one core. */
  cpuPct: number;
  /** The main thread's share of it (rtcmesh's or the raw loop's own work, and every engine call made from it); NaN where unknown. */
  mainThreadPct: number;
  /** Ticks that began more than one tick late, and ticks in the window. */
  lateTicks: number;
  ticks: number;
  /** States put for the clients in the window, and inputs read. */
  statesSent: number;
  inputsReceived: number;
}

export interface ClientsResult {
  /** At every client tick in the window: how old the newest state the client holds is, ms. */
  ages: number[];
  statesReceived: number;
  inputsSent: number;
}
