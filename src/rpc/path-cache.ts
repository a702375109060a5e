// The path cache (Godot's SceneCacheInterface): which local object each path names, the path ids
// this side announces for them, and, per link, what the remote has confirmed and what it announced.
// Path ids are never reused (a 32-bit counter), so a packet still in flight under a released id
// can reach nothing but a drop; every table is bounded by the objects alive on its side.
import { TransferMode } from '../mesh/multiplayer-constants.js';
import { RtcError } from '../transport/errors.js';
import { PathStatus, type RpcCodec } from './codec.js';
import type { PeerRpcState } from './peer-rpc-state.js';
import { MAX_VARINT_VALUE } from './varint.js';

/** Something registered under a path that peers address by path id: an RPC node or a spawner. */
export interface PathTarget {
  readonly path: string;
  /** The id this side announces the path under. */
  readonly pathId: number;
  /** What both ends compare before they trust ids under the path: the method table's hash, and a spawner's layout. */
  readonly hash: number;
}

/** The way out to one peer, as the multiplayer API sends. */
export interface PacketSink {
  put(to: number, packet: Uint8Array, mode: TransferMode, channel: number): boolean;
}

/** Where the cache reports what a game should hear of: a path a peer refuses, or one it calls that is not here. */
export type PathReporter = (error: RtcError, context: { peerId: number; path: string }) => void;

/** What this side sent a peer under one of its path ids. */
export interface SentPath {
  /** What the peer last answered: nothing yet, or the status it confirmed. */
  status: PathStatus | 'announced';
  /** When the peer answered TooManyPaths: the announcement is tried again {@link FULL_TABLE_RETRY_MS} later. */
  refusedAt: number;
  /** The transfer channels on which anything under the id went reliably: each gets a release. */
  readonly reliableChannels: Set<number>;
}

/** What a peer announced under one of its path ids. */
export interface ReceivedPath {
  readonly path: string;
  readonly hash: number;
  /** The answer this side gave, kept current as objects come and go at the path. */
  status: PathStatus;
  /** Releases received, and how many the peer said it sent (0 until the first arrives). */
  releases: number;
  expectedReleases: number;
}

/** How long a sender waits before announcing again a path a peer refused for a full table. */
export const FULL_TABLE_RETRY_MS = 1000;

/** The options of a {@link PathCache}. */
export interface PathCacheOptions {
  /** Path ids one peer may have announced and not released. */
  maxPathsPerPeer: number;
}

/**
 * The path tables of a multiplayer API. Sending: `deliver` announces a path before the first
 * packet that uses its id on a lane, and `unregister` releases the id on every reliable lane it
 * travelled, after everything sent there under it. Receiving: announcements are judged against
 * what is registered here and the verdict is sent again whenever it changes (an object registered
 * at the path later, or gone); releases free the remote's ids.
 */
export class PathCache {
  private readonly byPath = new Map<string, PathTarget>();
  private readonly byId = new Map<number, PathTarget>();
  private lastId = 0;

  constructor(
    private readonly codec: RpcCodec,
    private readonly sink: PacketSink,
    private readonly links: ReadonlyMap<number, PeerRpcState>,
    private readonly options: PathCacheOptions,
    private readonly report: PathReporter,
    private readonly now: () => number,
  ) {}

  /**
   * A fresh path id for a target about to be added: one more than the last, skipping ids in use
   * once the counter wraps past 2^32 − 1.
   */
  nextId(): number {
    do {
      this.lastId = this.lastId >= MAX_VARINT_VALUE ? 1 : this.lastId + 1;
    } while (this.byId.has(this.lastId));
    return this.lastId;
  }

  /**
   * Adds a target at its path and tells every peer that announced that path and was refused.
   * @throws RtcError ERR_ALREADY_EXISTS for a path taken.
   */
  add(target: PathTarget): void {
    if (this.byPath.has(target.path)) throw new RtcError('ERR_ALREADY_EXISTS', `${target.path} is registered already: unregister() it first.`);
    this.byPath.set(target.path, target);
    this.byId.set(target.pathId, target);
    this.rejudge(target.path);
  }

  /**
   * Removes the target at `path`: its id is released at every peer that heard of it, and peers
   * that call the path here are told it is gone. Returns the target, if there was one.
   */
  remove(path: string): PathTarget | undefined {
    const target = this.byPath.get(path);
    if (!target) return undefined;
    this.byPath.delete(path);
    this.byId.delete(target.pathId);
    for (const [peerId, link] of this.links) this.release(peerId, link, target.pathId);
    this.rejudge(path);
    return target;
  }

  /** The target registered at `path`. */
  get(path: string): PathTarget | undefined {
    return this.byPath.get(path);
  }

  /** The target this side announces under `pathId`, as a peer names it back (an acknowledgement). */
  local(pathId: number): PathTarget | undefined {
    return this.byId.get(pathId);
  }

  /** Every registered target. */
  targets(): IterableIterator<PathTarget> {
    return this.byPath.values();
  }

  /**
   * Puts a packet that uses `target`'s path id for one peer, after its announcement where the
   * peer may not know it yet: on a reliable lane once per transfer channel (order on the channel
   * brings it first), on an unreliable one with every packet until the peer confirms (the two
   * travel in one batch, lost or delivered together). Returns false when the peer refused the
   * path (counted `pathRefused`) or the packet could not be put.
   */
  deliver(to: number, target: PathTarget, packet: Uint8Array, mode: TransferMode, channel: number): boolean {
    const link = this.links.get(to);
    if (!link) return this.sink.put(to, packet, mode, channel);
    let sent = link.sent.get(target.pathId);
    if (sent?.status === PathStatus.TooManyPaths && this.now() - sent.refusedAt >= FULL_TABLE_RETRY_MS) {
      sent.status = 'announced';
      sent.reliableChannels.clear();
    }
    if (sent === undefined) {
      sent = { status: 'announced', refusedAt: 0, reliableChannels: new Set() };
      link.sent.set(target.pathId, sent);
    } else if (sent.status !== 'announced' && sent.status !== PathStatus.Ok) {
      link.dropped.pathRefused++;
      return false;
    }
    const reliable = mode === TransferMode.Reliable;
    if (sent.status !== PathStatus.Ok && (!reliable || !sent.reliableChannels.has(channel))) {
      this.sink.put(to, this.codec.encodeAnnounce(target.pathId, target.hash, target.path), mode, channel);
    }
    if (reliable) sent.reliableChannels.add(channel);
    return this.sink.put(to, packet, mode, channel);
  }

  /** An ANNOUNCE_PATH from a peer: judged, remembered and answered on the reliable channel. */
  onAnnounce(from: number, link: PeerRpcState, pathId: number, hash: number, path: string): void {
    const known = link.received.get(pathId);
    if (known) {
      // Path ids are never reused, so an id that changes its path or methods is a fault of the sender.
      if (known.path === path && known.hash === hash) this.confirm(from, pathId, known.status);
      else link.dropped.pathConflict++;
      return;
    }
    if (link.received.size >= this.options.maxPathsPerPeer) {
      link.dropped.tooManyPaths++;
      this.confirm(from, pathId, PathStatus.TooManyPaths);
      return;
    }
    const status = this.judge(path, hash);
    link.received.set(pathId, { path, hash, status, releases: 0, expectedReleases: 0 });
    if (status !== PathStatus.Ok) this.reportStatus(from, path, status, 'announced');
    this.confirm(from, pathId, status);
  }

  /** A CONFIRM_PATH: the peer's current verdict on one of this side's path ids. */
  onConfirm(from: number, link: PeerRpcState, pathId: number, status: PathStatus): void {
    const sent = link.sent.get(pathId);
    if (sent === undefined || sent.status === status) return;
    const first = sent.status === 'announced' && sent.refusedAt === 0;
    sent.status = status;
    if (status === PathStatus.TooManyPaths) sent.refusedAt = this.now();
    // Only the first answer is news to the game: later ones follow objects it unregisters and registers again.
    if (first && status !== PathStatus.Ok) this.reportStatus(from, this.byId.get(pathId)?.path ?? `#${pathId}`, status, 'refused');
  }

  /** A RELEASE_PATH: the peer's id is forgotten once its release has arrived on every lane it named. */
  onRelease(link: PeerRpcState, pathId: number, lanes: number): void {
    const known = link.received.get(pathId);
    if (!known) return;
    if (known.expectedReleases === 0) known.expectedReleases = lanes;
    if (++known.releases >= known.expectedReleases) link.received.delete(pathId);
  }

  /**
   * The local target a peer's path id names, if the peer announced it and this side accepted it;
   * otherwise counted `unknownPath`.
   */
  resolve(link: PeerRpcState, pathId: number): PathTarget | undefined {
    const known = link.received.get(pathId);
    const target = known?.status === PathStatus.Ok ? this.byPath.get(known.path) : undefined;
    if (!target) link.dropped.unknownPath++;
    return target;
  }

  /** The path a peer announced under `pathId`, for error messages. */
  receivedPath(link: PeerRpcState, pathId: number): string {
    return link.received.get(pathId)?.path ?? `#${pathId}`;
  }

  // Sends a release of `pathId` on every reliable lane it used with the peer and on channel 0.
  private release(peerId: number, link: PeerRpcState, pathId: number): void {
    const sent = link.sent.get(pathId);
    if (!sent) return;
    link.sent.delete(pathId);
    sent.reliableChannels.add(0);
    const packet = this.codec.encodeRelease(pathId, sent.reliableChannels.size);
    for (const channel of sent.reliableChannels) this.sink.put(peerId, packet, TransferMode.Reliable, channel);
  }

  // Re-answers every peer that announced `path`, where what is registered there changed the answer.
  private rejudge(path: string): void {
    for (const [peerId, link] of this.links) {
      for (const [pathId, known] of link.received) {
        if (known.path !== path) continue;
        const status = this.judge(path, known.hash);
        if (status === known.status) continue;
        known.status = status;
        this.confirm(peerId, pathId, status);
      }
    }
  }

  private judge(path: string, hash: number): PathStatus {
    const target = this.byPath.get(path);
    if (!target) return PathStatus.UnknownPath;
    return target.hash === hash ? PathStatus.Ok : PathStatus.MethodTableMismatch;
  }

  private confirm(to: number, pathId: number, status: PathStatus): void {
    this.sink.put(to, this.codec.encodeConfirm(pathId, status), TransferMode.Reliable, 0);
  }

  private reportStatus(peerId: number, path: string, status: PathStatus, how: 'announced' | 'refused'): void {
    if (status === PathStatus.TooManyPaths) {
      const message = `peer ${peerId} holds as many of this side's paths as its maxPathsPerPeer allows: calls to ${path} are refused, and it is announced again every ${FULL_TABLE_RETRY_MS} ms.`;
      this.report(new RtcError('ERR_OUT_OF_MEMORY', message), { peerId, path });
      return;
    }
    const fault =
      status === PathStatus.UnknownPath
        ? how === 'announced' ? `peer ${peerId} calls ${path}, which is not registered here` : `peer ${peerId} has nothing registered at ${path}`
        : `${path} has different RPC methods or replicated properties on peer ${peerId} and here: the two builds disagree`;
    this.report(new RtcError('ERR_INVALID_DATA', `${fault}; its calls are refused until it is registered alike on both.`), { peerId, path });
  }
}
