// Detection state that lives as long as a flow: flowbits, the pass/drop marks Suricata sets
// on a flow, and which app-layer signatures already alerted on which transaction. The engine
// creates it (DetectEngine.newFlowState) so its sizes match the compiled rule set; the flow
// stage only stores it on the flow and hands it back in DetectContext.flowDetect.

import type { AppScanState } from './appScanState';
import { StreamScanState } from './streamScanState';

export class FlowDetectState {
  /** One byte per flowbit name the rule set uses (1 = set), indexed by `names`. */
  flowbits: Uint8Array;
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
   * to client) per app-layer prefilter of the engine's group, made on first use.
   */
  appScans: Array<AppScanState | null> | null = null;

  constructor(names: readonly string[]) {
    this.names = names;
    this.flowbits = new Uint8Array(Math.max(1, names.length));
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
    this.names = names;
    this.txMatched = null;
    this.scanToServer = null;
    this.scanToClient = null;
    this.appScans = null;
  }
}
