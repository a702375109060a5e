// `GET /metrics` of the signaling server, in the Prometheus text format (prom-client): gauges read
// from the server when scraped, counters copied from ServerCounters, and the event loop's lag.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { Counter, Gauge, Registry } from 'prom-client';
import { MessageType } from './protocol.js';
import { CLOSE_CAUSES, type ServerCounters } from './server-counters.js';
import type { HttpAnswer } from './server-http.js';

/** What the server holds at the moment of a scrape. */
export interface ServerGauges {
  sockets: number;
  lobbies: number;
  members: number;
  /** With `redis`: whether the node reaches Redis. */
  clusterReachable: boolean;
}

const PREFIX = 'rtcmesh_signaling_';
const NS_PER_SECOND = 1e9;
// The delay histogram's resolution: fine enough for the lags that matter (tens of ms).
const LAG_RESOLUTION_MS = 10;
const MESSAGE_TYPE_LABELS = Object.fromEntries(
  Object.entries(MessageType)
    .filter((entry): entry is [string, number] => typeof entry[1] === 'number')
    .map(([name, type]) => [type, name.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase()]),
) as Record<number, string>;
const RELAYED_TYPES = [MessageType.Offer, MessageType.Answer, MessageType.Candidate];

/** One server's metrics: its own registry, so that servers in one process do not mix. */
export class ServerMetrics {
  private readonly registry = new Registry();
  private readonly lag: IntervalHistogram = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });

  constructor(counters: ServerCounters, gauges: () => ServerGauges) {
    const { registry, lag } = this;
    const now = (): ServerGauges => gauges();
    gauge(registry, 'sockets', 'WebSockets connected', function () {
      this.set(now().sockets);
    });
    gauge(registry, 'lobbies', 'Lobbies open', function () {
      this.set(now().lobbies);
    });
    gauge(registry, 'members', 'Sockets that are members of a lobby', function () {
      this.set(now().members);
    });
    gauge(registry, 'cluster_reachable', 'With --redis: 1 while the node reaches Redis and admits joins, else 0', function () {
      this.set(now().clusterReachable ? 1 : 0);
    });
    counter(registry, 'cluster_dropped_total', 'Messages from other nodes dropped: malformed, or naming a socket unknown here', [], function () {
      this.reset();
      this.inc(counters.clusterDropped);
    });
    counter(registry, 'messages_received_total', 'Messages received that parsed, by type', ['type'], function () {
      this.reset();
      counters.received.forEach((count, type) => this.inc({ type: MESSAGE_TYPE_LABELS[type] }, count));
    });
    counter(registry, 'messages_relayed_total', 'OFFER, ANSWER and CANDIDATE messages forwarded, by type', ['type'], function () {
      this.reset();
      for (const type of RELAYED_TYPES) this.inc({ type: MESSAGE_TYPE_LABELS[type] }, counters.relayed[type]);
    });
    counter(registry, 'received_bytes_total', 'Bytes of text frames received', [], function () {
      this.reset();
      this.inc(counters.bytesReceived);
    });
    counter(registry, 'sent_bytes_total', 'Bytes of text frames sent', [], function () {
      this.reset();
      this.inc(counters.bytesSent);
    });
    counter(registry, 'closes_total', 'Sockets closed, by cause (client: the client closed or dropped it)', ['cause'], function () {
      this.reset();
      for (const cause of CLOSE_CAUSES) this.inc({ cause }, counters.closes.get(cause) ?? 0);
    });
    new Gauge({
      name: `${PREFIX}event_loop_lag_seconds`,
      help: 'Event loop delay since the previous scrape: the 50th and 99th percentile and the maximum',
      labelNames: ['stat'],
      registers: [registry],
      collect() {
        this.set({ stat: 'p50' }, nanosToSeconds(lag.percentile(50)));
        this.set({ stat: 'p99' }, nanosToSeconds(lag.percentile(99)));
        this.set({ stat: 'max' }, nanosToSeconds(lag.max));
        lag.reset();
      },
    });
  }

  /** Starts measuring the event loop's lag. */
  start(): void {
    this.lag.enable();
  }

  /** Stops measuring the event loop's lag. */
  stop(): void {
    this.lag.disable();
  }

  /** The answer of `GET /metrics`. */
  async answer(): Promise<HttpAnswer> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

function gauge(registry: Registry, name: string, help: string, collect: (this: Gauge) => void): void {
  new Gauge({ name: `${PREFIX}${name}`, help, registers: [registry], collect });
}

function counter<L extends string>(registry: Registry, name: string, help: string, labelNames: L[], collect: (this: Counter<L>) => void): void {
  new Counter({ name: `${PREFIX}${name}`, help, labelNames, registers: [registry], collect });
}

function nanosToSeconds(nanos: number): number {
  // An idle histogram reports NaN percentiles until it has a sample.
  return Number.isFinite(nanos) ? nanos / NS_PER_SECOND : 0;
}
