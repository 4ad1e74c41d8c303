// Appends EVE lines to a file (or stdout for "-") without ever blocking the packet path.
//
// write() only queues the line; one asynchronous write at a time drains the queue in chunks.
// The queue is bounded in bytes: when it is full (slow disk, stalled pipe) or a write fails
// (ENOSPC, EIO), the records are dropped and counted, never retried in a loop and never
// allowed to stall the caller. An offline producer (replay) that must lose nothing opts into
// `whenFull: 'wait'`: the queue then grows past the bound and the producer awaits flush()
// whenever `full` says so, so the disk paces it instead of records being dropped. reopen() (wired to SIGUSR1) closes and reopens the path after
// the write in flight, the way logrotate's `postrotate kill -USR1` expects.

import * as fs from 'node:fs';
import { LateralError } from '../errors';

export interface EveWriterOptions {
  /** Most bytes waiting in memory before new records are dropped. Default 16 MiB. */
  maxBacklogBytes?: number;
  /** Most bytes handed to one write(2). Default 1 MiB. */
  maxChunkBytes?: number;
  /**
   * What a full backlog does to a new record: 'drop' (default: the live path never waits) or
   * 'wait' (kept; the producer must await flush() while `full` is true).
   */
  whenFull?: 'drop' | 'wait';
  /** Called on the first I/O error after a success (not per failed chunk), to log it. */
  onError?: (err: Error) => void;
}

export interface EveWriterStats {
  /** Records accepted by write() and written out. */
  written: number;
  /** Records dropped because the backlog was full. */
  droppedBacklog: number;
  /** Records dropped because a write (or reopen) failed. */
  droppedIoError: number;
  /** Failed write/open calls. */
  ioErrors: number;
  reopens: number;
  /** Records and bytes waiting now. */
  backlogRecords: number;
  backlogBytes: number;
}

const DEFAULT_BACKLOG = 16 * 1024 * 1024;
const DEFAULT_CHUNK = 1024 * 1024;

export class EveWriter {
  readonly target: string;
  private fd: number | null;
  private readonly toStdout: boolean;
  private readonly maxBacklog: number;
  private readonly maxChunk: number;
  private readonly dropWhenFull: boolean;
  private readonly onError: ((err: Error) => void) | undefined;

  private queue: string[] = [];
  private head = 0;
  private backlogBytes = 0;
  private writing = false;
  private reopenPending = false;
  private closed = false;
  private inErrorState = false;
  private drainWaiters: Array<() => void> = [];
  private sigHandler: (() => void) | null = null;

  private written = 0;
  private droppedBacklog = 0;
  private droppedIoError = 0;
  private ioErrors = 0;
  private reopens = 0;

  /**
   * Opens `target` for appending (created with mode 0640 if missing), or stdout for "-".
   * Throws LATERAL_ERR_IO naming the file when it cannot be opened.
   */
  constructor(target: string, options: EveWriterOptions = {}) {
    this.target = target;
    this.toStdout = target === '-';
    this.maxBacklog = options.maxBacklogBytes ?? DEFAULT_BACKLOG;
    this.maxChunk = options.maxChunkBytes ?? DEFAULT_CHUNK;
    this.dropWhenFull = (options.whenFull ?? 'drop') === 'drop';
    this.onError = options.onError;
    if (this.toStdout) {
      this.fd = null;
      // A closed pipe (EPIPE) must cost records, not the process: without a listener Node
      // throws stream errors. The write callback counts the loss.
      if (process.stdout.listenerCount('error') === 0) process.stdout.on('error', () => undefined);
    } else {
      try {
        this.fd = fs.openSync(target, 'a', 0o640);
      } catch (err) {
        throw new LateralError('LATERAL_ERR_IO', `cannot open EVE output: ${(err as Error).message}`, { file: target, line: 0 }, { cause: err });
      }
    }
  }

  /**
   * Queues one record (an object is JSON-encoded; a string is taken as one ready line
   * without its newline). Returns false when the record was dropped (backlog full or closed).
   */
  write(record: string | object): boolean {
    const line = (typeof record === 'string' ? record : JSON.stringify(record)) + '\n';
    if (this.closed) {
      this.droppedIoError++;
      return false;
    }
    // Bytes are counted as UTF-16 units: an upper bound that needs no encoding pass here.
    if (this.dropWhenFull && this.backlogBytes + line.length > this.maxBacklog) {
      this.droppedBacklog++;
      return false;
    }
    this.queue.push(line);
    this.backlogBytes += line.length;
    if (!this.writing) this.pump();
    return true;
  }

  /** The backlog has reached its bound: a 'wait' producer should await flush() now. */
  get full(): boolean {
    return this.backlogBytes >= this.maxBacklog;
  }

  /** Closes and reopens the file after the write in flight (logrotate). No-op for stdout. */
  reopen(): void {
    if (this.toStdout || this.closed) return;
    this.reopenPending = true;
    if (!this.writing) this.pump();
  }

  /** Reopen on SIGUSR1 until close(). */
  reopenOnSigusr1(): void {
    if (this.sigHandler) return;
    this.sigHandler = () => this.reopen();
    process.on('SIGUSR1', this.sigHandler);
  }

  /** Resolves when everything queued so far has been written (or dropped on error). */
  flush(): Promise<void> {
    if (!this.writing && this.pending() === 0 && !this.reopenPending) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** Flushes, then closes the file. Later writes are dropped and counted. */
  async close(): Promise<void> {
    if (this.sigHandler) {
      process.off('SIGUSR1', this.sigHandler);
      this.sigHandler = null;
    }
    await this.flush();
    this.closed = true;
    if (this.fd !== null) {
      const fd = this.fd;
      this.fd = null;
      await new Promise<void>((resolve) => fs.close(fd, () => resolve()));
    }
  }

  stats(): EveWriterStats {
    return {
      written: this.written,
      droppedBacklog: this.droppedBacklog,
      droppedIoError: this.droppedIoError,
      ioErrors: this.ioErrors,
      reopens: this.reopens,
      backlogRecords: this.pending(),
      backlogBytes: this.backlogBytes,
    };
  }

  private pending(): number {
    return this.queue.length - this.head;
  }

  private pump(): void {
    if (this.pending() > 0 && !this.toStdout && this.fd === null && !this.closed) {
      // The last open failed: try again now that there is something to write.
      this.reopenPending = true;
    }
    if (this.reopenPending) {
      this.reopenPending = false;
      this.writing = true;
      this.doReopen();
      return;
    }
    if (this.pending() === 0) {
      this.writing = false;
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const w of waiters) w();
      return;
    }
    // Take whole lines up to the chunk size (always at least one).
    let end = this.head;
    let bytes = 0;
    while (end < this.queue.length && (end === this.head || bytes + this.queue[end]!.length <= this.maxChunk)) {
      bytes += this.queue[end]!.length;
      end++;
    }
    const chunk = this.queue.slice(this.head, end).join('');
    const count = end - this.head;
    this.head = end;
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.writing = true;
    const done = (err: Error | null | undefined): void => {
      this.backlogBytes -= bytes;
      if (err) this.failed(err, count);
      else {
        this.written += count;
        this.inErrorState = false;
      }
      this.pump();
    };
    if (this.toStdout) {
      process.stdout.write(chunk, done);
    } else {
      fs.write(this.fd!, chunk, null, 'utf8', (err) => done(err));
    }
  }

  private failed(err: Error, records: number): void {
    this.ioErrors++;
    this.droppedIoError += records;
    if (!this.inErrorState) {
      this.inErrorState = true;
      this.onError?.(new LateralError('LATERAL_ERR_IO', `EVE write failed, records dropped: ${err.message}`, { file: this.target, line: 0 }, { cause: err }));
    }
  }

  private doReopen(): void {
    const old = this.fd;
    this.fd = null;
    const openNew = (): void => {
      fs.open(this.target, 'a', 0o640, (err, fd) => {
        this.reopens++;
        if (err) {
          this.ioErrors++;
          this.onError?.(new LateralError('LATERAL_ERR_IO', `cannot reopen EVE output: ${err.message}`, { file: this.target, line: 0 }, { cause: err }));
          // Drop what is queued so a persistent failure cannot spin; the next write()
          // tries to open the file again.
          this.dropQueued();
        } else {
          this.fd = fd;
        }
        this.pump();
      });
    };
    if (old === null) openNew();
    else fs.close(old, () => openNew());
  }

  private dropQueued(): void {
    this.droppedIoError += this.pending();
    this.queue = [];
    this.head = 0;
    this.backlogBytes = 0;
  }
}
