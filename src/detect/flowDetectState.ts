// Detection state that lives as long as a flow: flowbits, the pass/drop marks Suricata sets
// on a flow, and which app-layer signatures already alerted on which transaction. The engine
// creates it (DetectEngine.newFlowState) so its sizes match the compiled rule set; the flow
// stage only stores it on the flow and hands it back in DetectContext.flowDetect.

import type { AppScanState } from './appScanState';
import { StreamScanState } from './streamScanState';

/** The all-zero flowbits of a rule set's names (shared, never written). */
const ZERO_BITS = new WeakMap<readonly string[], Uint8Array>();
function zeroBits(names: readonly string[]): Uint8Array {
  let z = ZERO_BITS.get(names);
  if (z === undefined) {
    z = new Uint8Array(Math.max(1, names.length));
    ZERO_BITS.set(names, z);
  }
  return z;
}

export class FlowDetectState {
  /**
   * One byte per flowbit name the rule set uses (1 = set), indexed by `names`. Read-only: until
   * a flowbit is first written (setFlowbit) it is one all-zero array shared by every flow of
   * the rule set, so most flows allocate none.
   */
  flowbits: Uint8Array;
  private ownBits = false;
  /**
   * The flowbit names of the engine that made this state (slot order). After a rule reload
   * the new engine sees a different array here and remaps the bits by name (adoptBy).
   */
  names: readonly string[];
  /** A `pass` signature matched: inspection of this flow ends (Suricata's flow pass). */
  passed = false;
  /** A `drop`/`reject` signature matched in IPS mode: every later packet is dropped. */
  dropped = false;
  /**
   * App-layer signature index → id of the last transaction it alerted on, so a signature
   * alerts once per transaction. Created lazily: most flows never match anything.
   */
  txMatched: Map<number, number> | null = null;
  /** Where the payload prefilter stopped in each direction's stream (made on first stream data). */
  scanToServer: StreamScanState | null = null;
  scanToClient: StreamScanState | null = null;
  /**
   * Where the prefilter stopped in the app-layer buffers that only grow: two slots (to server,
   * to client) per app-layer prefilter slot (the engine sizes it: 2 x the most app-layer prefilters of any signature group), made on first use.
   */
  appScans: Array<AppScanState | null> | null = null;

  constructor(names: readonly string[]) {
    this.names = names;
    this.flowbits = zeroBits(names);
  }

  /** Writes one flowbit (the first write gives the flow its own copy). */
  setFlowbit(slot: number, value: number): void {
    if (!this.ownBits) {
      this.flowbits = this.flowbits.slice();
      this.ownBits = true;
    }
    this.flowbits[slot] = value;
  }

  /**
   * Drops the prefilter resume points (stream and app-layer scan states, ~1.3 KB of an HTTP
   * flow's heap on the replay workloads). Always safe: a dropped state only makes the next
   * scan start over (whole window, whole buffer), which gives the same candidates. Meant for
   * a flow whose streams are done (StreamResult.done: both FINs in, nothing left to give), so
   * that a closed flow waiting for its timeout keeps flowbits and alert marks only.
   */
  releaseScanState(): void {
    this.scanToServer = null;
    this.scanToClient = null;
    this.appScans = null;
  }

  /**
   * Carries this flow's state over to a reloaded rule set: flowbits are kept by name,
   * per-transaction marks are dropped (signature numbers changed). Cold path: once per
   * flow per reload.
   */
  adoptBy(names: readonly string[]): void {
    const bits = new Uint8Array(Math.max(1, names.length));
    const old = new Map(this.names.map((n, i) => [n, i]));
    names.forEach((n, i) => {
      const j = old.get(n);
      if (j !== undefined) bits[i] = this.flowbits[j]!;
    });
    this.flowbits = bits;
    this.ownBits = true;
    this.names = names;
    this.txMatched = null;
    this.scanToServer = null;
    this.scanToClient = null;
    this.appScans = null;
  }
}
