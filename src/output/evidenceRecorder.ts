// Per-alert evidence pcaps: each flow's recent packets are kept in a bounded ring, and an
// alert writes them (the alerting packet is the newest) as a classic pcap file whose name
// goes into the EVE record as `evidence: {pcap: "<name>"}` (see docs/evidence.md).
//
// Bounds, all counted (stats()):
// - per flow: at most maxPacketsPerFlow packets and maxBytesPerFlow bytes (oldest go first),
//   each packet cut to maxPacketBytes;
// - flows: an LRU of maxFlows rings (evictions counted; evicted rings are reused);
// - disk: maxFiles files and maxTotalBytes bytes in the directory, oldest deleted first,
//   files of earlier runs included;
// - one file per flow per flowFileWindowSec (packet time): a later alert of the flow inside
//   the window appends the packets recorded since the last write to the same file and
//   returns the same name;
// - writes are asynchronous, one at a time, from a queue bounded by maxQueueBytes; a full
//   queue, a cap that cannot be met or a failed write (ENOSPC, EROFS ...) is counted and
//   never thrown at the packet path.
//
// Hot path: record() copies the packet into the flow's ring (the capture buffers are reused)
// without allocating once the ring has grown. alert() is the cold path: it snapshots the
// ring into one Buffer and queues it.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { LRUCache } from 'lru-cache';
import { LateralError } from '../errors';
import { PCAP_GLOBAL_HEADER_BYTES, PCAP_RECORD_HEADER_BYTES, writePcapGlobalHeader, writePcapRecordHeader } from './evidencePcap';

export interface EvidenceRecorderOptions {
  /** Directory for the pcap files; created if missing. */
  dir: string;
  /** pcap LINKTYPE_* of the recorded bytes: 1 (Ethernet) for passive capture, 101 (raw IPv4/IPv6) for NFQUEUE. */
  linkType: number;
  /** Packets kept per flow. Default 32. */
  maxPacketsPerFlow?: number;
  /** Bytes kept per flow. Default 128 KiB. */
  maxBytesPerFlow?: number;
  /** Bytes kept of each packet (the pcap snaplen). Default 65535. */
  maxPacketBytes?: number;
  /** Flows with a ring (LRU). Default 10000. */
  maxFlows?: number;
  /** Evidence files kept in dir. Default 1000. */
  maxFiles?: number;
  /** Bytes of evidence kept in dir. Default 1 GiB. */
  maxTotalBytes?: number;
  /** A flow's alerts within this many seconds (packet time) share one file. Default 60. */
  flowFileWindowSec?: number;
  /** Bytes waiting to be written before new evidence is dropped. Default 32 MiB. */
  maxQueueBytes?: number;
  /** Called on the first write error after a success (not per failure), to log it. */
  onError?: (err: Error) => void;
}

export interface EvidenceStats {
  packetsRecorded: number;
  flowsTracked: number;
  /** Flows whose ring was evicted by the LRU (not forget()). */
  flowsEvicted: number;
  /** Alerts that produced a new file. */
  filesCreated: number;
  /** Alerts that appended packets to their flow's file. */
  appends: number;
  /** Alerts that named their flow's file with nothing new to add (same packet, several sids). */
  referenced: number;
  /** Alerts on flows with no recorded packets (or an evicted ring). */
  skippedNoPackets: number;
  /** Alerts whose evidence could not fit under maxTotalBytes. */
  skippedCap: number;
  /** Alerts dropped because the write queue was full. */
  droppedQueue: number;
  /** Old files deleted to stay under maxFiles / maxTotalBytes. */
  deleted: number;
  /** Failed file operations (create, append, delete). */
  writeErrors: number;
  /** Evidence files and bytes in dir, as accounted (including queued writes). */
  filesOnDisk: number;
  bytesOnDisk: number;
  /** Bytes waiting in the write queue. */
  queueBytes: number;
}

/** The field Lateral adds to an EVE alert record. */
export interface EveEvidence {
  pcap: string;
}

interface DiskFile {
  name: string;
  size: number;
  gone: boolean;
}

type Op =
  | { kind: 'create' | 'append'; file: DiskFile; data: Buffer }
  | { kind: 'delete'; file: DiskFile; data: null };

const FILE_RE = /^flow-\d+_\d{8}T\d{6}\.\d{6}Z_sid-\d+(_\d+)?\.pcap$/;
const copyBytes = Buffer.prototype.copy;

/** `flow-<flow id>_<UTC packet time>_sid-<sid>.pcap`, e.g. flow-42_20261127T114512.000123Z_sid-2100498.pcap */
export function evidenceFileName(flowId: number, tsSec: number, tsUsec: number, sid: number): string {
  const d = new Date(tsSec * 1000);
  const p2 = (n: number): string => String(n).padStart(2, '0');
  const stamp = `${d.getUTCFullYear()}${p2(d.getUTCMonth() + 1)}${p2(d.getUTCDate())}T${p2(d.getUTCHours())}${p2(d.getUTCMinutes())}${p2(d.getUTCSeconds())}.${String(tsUsec).padStart(6, '0')}Z`;
  return `flow-${flowId}_${stamp}_sid-${sid}.pcap`;
}

/** One flow's recent packets: a circular byte buffer plus a circular table of entries. */
class FlowRing {
  bytes: Buffer;
  /** Byte offset of the oldest packet, and bytes in use. */
  head = 0;
  used = 0;
  readonly start: Uint32Array;
  readonly len: Uint32Array;
  readonly wire: Uint32Array;
  readonly sec: Uint32Array;
  readonly usec: Uint32Array;
  readonly seq: Float64Array;
  /** Index of the oldest entry, and entries in use. */
  first = 0;
  count = 0;
  nextSeq = 0;
  /** Sequence number of the last packet written to `file`; -1 before any. */
  writtenSeq = -1;
  file: DiskFile | null = null;
  fileStartSec = 0;

  constructor(maxPackets: number, initialBytes: number) {
    this.bytes = Buffer.allocUnsafe(initialBytes);
    this.start = new Uint32Array(maxPackets);
    this.len = new Uint32Array(maxPackets);
    this.wire = new Uint32Array(maxPackets);
    this.sec = new Uint32Array(maxPackets);
    this.usec = new Uint32Array(maxPackets);
    this.seq = new Float64Array(maxPackets);
  }

  reset(): void {
    this.head = this.used = this.first = this.count = this.nextSeq = 0;
    this.writtenSeq = -1;
    this.file = null;
    this.fileStartSec = 0;
  }

  private dropOldest(): void {
    const i = this.first;
    this.head = (this.head + this.len[i]!) % this.bytes.length;
    this.used -= this.len[i]!;
    this.first = (i + 1) % this.start.length;
    this.count--;
    if (this.count === 0) this.head = this.used = 0;
  }

  /** Grows the byte buffer (linearising the ring) to at least `need`, at most `max`. */
  private grow(need: number, max: number): void {
    let size = this.bytes.length;
    while (size < need) size *= 2;
    size = Math.min(size, max);
    const next = Buffer.allocUnsafe(size);
    let at = 0;
    for (let k = 0, i = this.first; k < this.count; k++, i = (i + 1) % this.start.length) {
      at = this.readInto(i, next, at);
    }
    // Entries are now contiguous from 0, in order.
    let pos = 0;
    for (let k = 0, i = this.first; k < this.count; k++, i = (i + 1) % this.start.length) {
      this.start[i] = pos;
      pos += this.len[i]!;
    }
    this.bytes = next;
    this.head = 0;
  }

  push(src: Uint8Array, offset: number, length: number, wireLength: number, tsSec: number, tsUsec: number, maxBytes: number): void {
    if (this.count === this.start.length) this.dropOldest();
    if (this.used + length > this.bytes.length && this.bytes.length < maxBytes) this.grow(this.used + length, maxBytes);
    while (this.count > 0 && this.used + length > this.bytes.length) this.dropOldest();
    const cap = this.bytes.length;
    const tail = (this.head + this.used) % cap;
    const firstPart = Math.min(length, cap - tail);
    copyBytes.call(src as Buffer, this.bytes, tail, offset, offset + firstPart);
    if (firstPart < length) copyBytes.call(src as Buffer, this.bytes, 0, offset + firstPart, offset + length);
    const i = (this.first + this.count) % this.start.length;
    this.start[i] = tail;
    this.len[i] = length;
    this.wire[i] = wireLength;
    this.sec[i] = tsSec;
    this.usec[i] = tsUsec;
    this.seq[i] = this.nextSeq++;
    this.count++;
    this.used += length;
  }

  /** Copies entry i's bytes to out[at..]; returns the offset after them. */
  readInto(i: number, out: Buffer, at: number): number {
    const cap = this.bytes.length;
    const s = this.start[i]!;
    const n = this.len[i]!;
    const firstPart = Math.min(n, cap - s);
    this.bytes.copy(out, at, s, s + firstPart);
    if (firstPart < n) this.bytes.copy(out, at + firstPart, 0, n - firstPart);
    return at + n;
  }
}

export class EvidenceRecorder {
  readonly dir: string;
  readonly linkType: number;
  private readonly maxPackets: number;
  private readonly maxBytesPerFlow: number;
  private readonly maxPacketBytes: number;
  private readonly maxFiles: number;
  private readonly maxTotalBytes: number;
  private readonly windowSec: number;
  private readonly maxQueueBytes: number;
  private readonly onError: ((err: Error) => void) | undefined;

  private readonly flows: LRUCache<number, FlowRing>;
  private readonly spareRings: FlowRing[] = [];
  /** Evidence files in creation order (oldest first), by name. */
  private readonly files = new Map<string, DiskFile>();
  private totalBytes = 0;

  private readonly ops: Op[] = [];
  private opsHead = 0;
  private queueBytes = 0;
  private writing = false;
  private inErrorState = false;
  private drainWaiters: Array<() => void> = [];

  private packetsRecorded = 0;
  private flowsEvicted = 0;
  private filesCreated = 0;
  private appends = 0;
  private referenced = 0;
  private skippedNoPackets = 0;
  private skippedCap = 0;
  private droppedQueue = 0;
  private deleted = 0;
  private writeErrors = 0;

  /**
   * Creates `options.dir` if needed and takes stock of the evidence files already there, so
   * the caps hold across restarts. Throws LATERAL_ERR_IO naming the directory when it cannot
   * be created or read, LATERAL_ERR_CONFIG for a bad option.
   */
  constructor(options: EvidenceRecorderOptions) {
    this.dir = options.dir;
    this.linkType = options.linkType;
    const where = { file: options.dir, line: 0 };
    const positive = (name: string, v: number | undefined, def: number): number => {
      const n = v ?? def;
      if (!Number.isInteger(n) || n <= 0) throw new LateralError('LATERAL_ERR_CONFIG', `evidence ${name} must be a positive integer, got ${n}`, where);
      return n;
    };
    this.maxPackets = positive('maxPacketsPerFlow', options.maxPacketsPerFlow, 32);
    this.maxBytesPerFlow = positive('maxBytesPerFlow', options.maxBytesPerFlow, 128 * 1024);
    this.maxPacketBytes = Math.min(positive('maxPacketBytes', options.maxPacketBytes, 65535), this.maxBytesPerFlow);
    this.maxFiles = positive('maxFiles', options.maxFiles, 1000);
    this.maxTotalBytes = positive('maxTotalBytes', options.maxTotalBytes, 1024 * 1024 * 1024);
    this.windowSec = positive('flowFileWindowSec', options.flowFileWindowSec, 60);
    this.maxQueueBytes = positive('maxQueueBytes', options.maxQueueBytes, 32 * 1024 * 1024);
    const maxFlows = positive('maxFlows', options.maxFlows, 10000);
    this.onError = options.onError;

    try {
      fs.mkdirSync(this.dir, { recursive: true, mode: 0o750 });
      const existing: Array<{ name: string; size: number; mtime: number }> = [];
      for (const name of fs.readdirSync(this.dir)) {
        if (!FILE_RE.test(name)) continue;
        const st = fs.statSync(path.join(this.dir, name));
        if (st.isFile()) existing.push({ name, size: st.size, mtime: st.mtimeMs });
      }
      existing.sort((a, b) => a.mtime - b.mtime || (a.name < b.name ? -1 : 1));
      for (const e of existing) {
        this.files.set(e.name, { name: e.name, size: e.size, gone: false });
        this.totalBytes += e.size;
      }
    } catch (err) {
      throw new LateralError('LATERAL_ERR_IO', `cannot use the evidence directory: ${(err as Error).message}`, where, { cause: err });
    }

    this.flows = new LRUCache<number, FlowRing>({
      max: maxFlows,
      dispose: (ring, _key, reason) => {
        if (reason === 'evict') this.flowsEvicted++;
        if (reason === 'evict' || reason === 'delete') {
          ring.reset();
          if (this.spareRings.length < 64) this.spareRings.push(ring);
        }
      },
    });
  }

  /**
   * Keeps a copy of one packet of flow `flowId` (src[offset .. offset+length)). Call it for
   * every packet of the flow before detection, so that the alerting packet is the newest.
   */
  record(flowId: number, src: Uint8Array, offset: number, length: number, wireLength: number, tsSec: number, tsUsec: number): void {
    let ring = this.flows.get(flowId);
    if (ring === undefined) {
      ring = this.spareRings.pop() ?? new FlowRing(this.maxPackets, Math.min(4096, this.maxBytesPerFlow));
      this.flows.set(flowId, ring);
    }
    const n = length > this.maxPacketBytes ? this.maxPacketBytes : length;
    ring.push(src, offset, n, wireLength > length ? wireLength : length, tsSec, tsUsec, this.maxBytesPerFlow);
    this.packetsRecorded++;
  }

  /** The flow ended: its ring is released (not counted as an eviction). */
  forget(flowId: number): void {
    this.flows.delete(flowId);
  }

  /**
   * Writes (asynchronously) the evidence for an alert of rule `sid` on flow `flowId` at packet
   * time tsSec.tsUsec, and returns the file name (relative to dir) for the EVE record, or
   * null when there is none (no packets, caps, full queue: all counted).
   */
  alert(flowId: number, sid: number, tsSec: number, tsUsec: number): string | null {
    const ring = this.flows.peek(flowId);
    if (ring === undefined || ring.count === 0) {
      this.skippedNoPackets++;
      return null;
    }
    let file = ring.file;
    const append = file !== null && !file.gone && tsSec - ring.fileStartSec < this.windowSec;
    if (!append) file = null;

    // The entries not yet written (all of them for a new file).
    let k0 = 0;
    let size = append ? 0 : PCAP_GLOBAL_HEADER_BYTES;
    for (let k = 0; k < ring.count; k++) {
      const i = (ring.first + k) % ring.start.length;
      if (append && ring.seq[i]! <= ring.writtenSeq) {
        k0 = k + 1;
        continue;
      }
      size += PCAP_RECORD_HEADER_BYTES + ring.len[i]!;
    }
    if (append && k0 === ring.count) {
      this.referenced++;
      return file!.name;
    }
    if (this.queueBytes + size > this.maxQueueBytes) {
      this.droppedQueue++;
      return null;
    }
    if (!this.makeRoom(size, append ? file : null)) {
      this.skippedCap++;
      return null;
    }

    const data = Buffer.allocUnsafe(size);
    let at = append ? 0 : writePcapGlobalHeader(data, 0, this.linkType, this.maxPacketBytes);
    for (let k = append ? k0 : 0; k < ring.count; k++) {
      const i = (ring.first + k) % ring.start.length;
      at = writePcapRecordHeader(data, at, ring.sec[i]!, ring.usec[i]!, ring.len[i]!, ring.wire[i]!);
      at = ring.readInto(i, data, at);
      ring.writtenSeq = ring.seq[i]!;
    }

    if (file === null) {
      file = { name: this.uniqueName(evidenceFileName(flowId, tsSec, tsUsec, sid)), size: 0, gone: false };
      this.files.set(file.name, file);
      ring.file = file;
      ring.fileStartSec = tsSec;
      this.filesCreated++;
      this.enqueue({ kind: 'create', file, data });
    } else {
      this.appends++;
      this.enqueue({ kind: 'append', file, data });
    }
    file.size += size;
    this.totalBytes += size;
    return file.name;
  }

  /** Resolves when every queued write has finished (or failed). */
  flush(): Promise<void> {
    if (!this.writing) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** Flushes; the recorder can still record afterwards (it holds no descriptors). */
  async close(): Promise<void> {
    await this.flush();
    this.flows.clear();
  }

  stats(): EvidenceStats {
    return {
      packetsRecorded: this.packetsRecorded,
      flowsTracked: this.flows.size,
      flowsEvicted: this.flowsEvicted,
      filesCreated: this.filesCreated,
      appends: this.appends,
      referenced: this.referenced,
      skippedNoPackets: this.skippedNoPackets,
      skippedCap: this.skippedCap,
      droppedQueue: this.droppedQueue,
      deleted: this.deleted,
      writeErrors: this.writeErrors,
      filesOnDisk: this.files.size,
      bytesOnDisk: this.totalBytes,
      queueBytes: this.queueBytes,
    };
  }

  /** Deletes oldest files (never `keep`) until `size` more bytes and, for a new file, one more file fit. */
  private makeRoom(size: number, keep: DiskFile | null): boolean {
    const limitBytes = this.maxTotalBytes - (keep ? keep.size : 0);
    if (size > limitBytes) return false;
    const needFile = keep === null ? 1 : 0;
    for (const f of this.files.values()) {
      if (this.totalBytes + size <= this.maxTotalBytes && this.files.size + needFile <= this.maxFiles) break;
      if (f === keep) continue;
      this.removeFile(f);
      this.deleted++;
      this.enqueue({ kind: 'delete', file: f, data: null });
    }
    return this.totalBytes + size <= this.maxTotalBytes && this.files.size + needFile <= this.maxFiles;
  }

  private removeFile(f: DiskFile): void {
    if (f.gone) return;
    f.gone = true;
    this.files.delete(f.name);
    this.totalBytes -= f.size;
  }

  private uniqueName(base: string): string {
    if (!this.files.has(base)) return base;
    const stem = base.slice(0, -'.pcap'.length);
    for (let n = 2; ; n++) {
      const name = `${stem}_${n}.pcap`;
      if (!this.files.has(name)) return name;
    }
  }

  private enqueue(op: Op): void {
    this.ops.push(op);
    if (op.data) this.queueBytes += op.data.length;
    if (!this.writing) this.pump();
  }

  private pump(): void {
    if (this.opsHead === this.ops.length) {
      this.ops.length = 0;
      this.opsHead = 0;
      this.writing = false;
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const w of waiters) w();
      return;
    }
    this.writing = true;
    const op = this.ops[this.opsHead]!;
    this.ops[this.opsHead++] = undefined as unknown as Op; // let the bytes go
    const target = path.join(this.dir, op.file.name);
    const done = (err: NodeJS.ErrnoException | null): void => {
      if (op.data) this.queueBytes -= op.data.length;
      if (err && !(op.kind === 'delete' && err.code === 'ENOENT')) {
        this.failed(op, err);
        // A partial file is worse than none: remove it before the next operation.
        // (EEXIST: the file is not ours, leave it.)
        if (op.kind !== 'delete' && err.code !== 'EEXIST') return fs.unlink(target, () => this.pump());
      } else if (op.kind !== 'delete') this.inErrorState = false;
      this.pump();
    };
    if (op.kind === 'delete') {
      fs.unlink(target, done);
    } else if (op.file.gone) {
      // An earlier write of this file failed (or it was deleted): nothing to append to.
      done(null);
    } else {
      // 'wx' on create: never overwrite a file this process did not account for.
      fs.writeFile(target, op.data, { flag: op.kind === 'create' ? 'wx' : 'a', mode: 0o640 }, done);
    }
  }

  private failed(op: Op, err: NodeJS.ErrnoException): void {
    this.writeErrors++;
    // Forget the file, so later alerts of the flow start a new one.
    if (op.kind !== 'delete') this.removeFile(op.file);
    if (!this.inErrorState) {
      this.inErrorState = true;
      this.onError?.(new LateralError('LATERAL_ERR_IO', `evidence ${op.kind} of ${op.file.name} failed: ${err.message}`, { file: this.dir, line: 0 }, { cause: err }));
    }
  }
}
