/**
 * A WebRTC backend that counts what rtcmesh hands the engine: every message each channel sends,
 * and its bytes, by connection (in the order they were made) and channel label. What rtcmesh
 * puts into SCTP messages, framing and batching included, is what the replication figures count.
 */
import type { Backend, BackendChannel, BackendConnection } from '../src/transport/backend.js';

/** Messages and bytes one channel sent. */
export interface ChannelCount {
  messages: number;
  bytes: number;
}

/** Wraps `inner`; `sent(connection, label)` reads the counts. */
export class CountingBackend implements Backend {
  readonly name: string;
  private readonly counts: Map<string, ChannelCount>[] = [];

  constructor(private readonly inner: Backend) {
    this.name = `counting ${inner.name}`;
  }

  createConnection(...args: Parameters<Backend['createConnection']>): BackendConnection {
    const connection = this.inner.createConnection(...args);
    const counts = new Map<string, ChannelCount>();
    this.counts.push(counts);
    return {
      createOffer: () => connection.createOffer(),
      setLocalDescription: (type, sdp) => connection.setLocalDescription(type, sdp),
      setRemoteDescription: (type, sdp) => connection.setRemoteDescription(type, sdp),
      addRemoteCandidate: (mid, candidate) => connection.addRemoteCandidate(mid, candidate),
      close: () => connection.close(),
      createDataChannel: (label, init) => counted(connection.createDataChannel(label, init), counts),
      poll: () => connection.poll?.(),
    };
  }

  cleanup(): void {
    this.inner.cleanup?.();
  }

  /** What the `index`-th connection made sent on the channel labelled `label`. */
  sent(index: number, label: string): ChannelCount {
    return { ...(this.counts[index]?.get(label) ?? { messages: 0, bytes: 0 }) };
  }

  /** How many connections were made. */
  get connections(): number {
    return this.counts.length;
  }
}

function counted(channel: BackendChannel, counts: Map<string, ChannelCount>): BackendChannel {
  const count: ChannelCount = { messages: 0, bytes: 0 };
  counts.set(channel.info.label, count);
  return {
    info: channel.info,
    setHandlers: (handlers) => channel.setHandlers(handlers),
    poll: () => channel.poll(),
    currentId: () => channel.currentId(),
    sendBinary: (data) => {
      const sent = channel.sendBinary(data);
      if (sent) {
        count.messages++;
        count.bytes += data.byteLength;
      }
      return sent;
    },
    sendText: (text) => channel.sendText(text),
    bufferedAmount: () => channel.bufferedAmount(),
    maxMessageSize: () => channel.maxMessageSize(),
    close: () => channel.close(),
  };
}
