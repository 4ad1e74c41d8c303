// Detection state that lives as long as a flow: flowbits, the pass/drop marks Suricata sets
// on a flow, and which app-layer signatures already alerted on which transaction. The engine
// creates it (DetectEngine.newFlowState) so its sizes match the compiled rule set; the flow
// stage only stores it on the flow and hands it back in DetectContext.flowDetect.

export class FlowDetectState {
  /** One byte per flowbit name the rule set uses (1 = set). */
  readonly flowbits: Uint8Array;
  /** A `pass` signature matched: inspection of this flow ends (Suricata's flow pass). */
  passed = false;
  /** A `drop`/`reject` signature matched in IPS mode: every later packet is dropped. */
  dropped = false;
  /**
   * App-layer signature index → id of the last transaction it alerted on, so a signature
   * alerts once per transaction. Created lazily: most flows never match anything.
   */
  txMatched: Map<number, number> | null = null;

  constructor(flowbitCount: number) {
    this.flowbits = new Uint8Array(flowbitCount);
  }
}
