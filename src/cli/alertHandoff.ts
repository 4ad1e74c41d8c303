// The bound on alerts travelling from a queue worker to the main thread. postMessage queues
// without limit, so both sides share one Int32 counter: the worker reserves before posting,
// the main thread releases once the alerts are written. When the main thread lags, reserve()
// fails and the worker counts and drops the alerts instead of growing the message queue.
export class AlertHandoff {
  private readonly inFlight: Int32Array;

  /** `shared`: a SharedArrayBuffer of at least 4 bytes, the same one on both threads. */
  constructor(shared: SharedArrayBuffer, readonly max: number) {
    this.inFlight = new Int32Array(shared, 0, 1);
  }

  static sharedBuffer(): SharedArrayBuffer {
    return new SharedArrayBuffer(4);
  }

  /** Worker side: true (and counted in flight) if `n` more alerts may be posted now. */
  reserve(n: number): boolean {
    if (Atomics.load(this.inFlight, 0) + n > this.max) return false;
    Atomics.add(this.inFlight, 0, n);
    return true;
  }

  /** Main-thread side: `n` alerts were taken off the queue. */
  release(n: number): void {
    Atomics.sub(this.inFlight, 0, n);
  }

  get pending(): number {
    return Atomics.load(this.inFlight, 0);
  }
}
