// One bidirectional conversation (5-tuple + VLANs), as Suricata's Flow: who is client and
// server, the flow state, counters per direction, timestamps, and slots for the later stages.
//
// Direction follows Suricata: the side that sent the first packet seen (the SYN for TCP) is
// the client; "to server" means client → server. Flow imports nothing from later stages:
// their per-flow state hangs off the typed-as-unknown slots below.

/** Suricata's flow states, which select the flow timeout. */
export const FlowState = {
  NEW: 0,
  ESTABLISHED: 1,
  CLOSED: 2,
} as const;
export type FlowStateValue = (typeof FlowState)[keyof typeof FlowState];

/** TCP connection states, set by the stream tracker (src/stream), mirroring Suricata's. */
export const TcpState = {
  NONE: 0,
  SYN_SENT: 1,
  SYN_RECV: 2,
  ESTABLISHED: 3,
  FIN_WAIT1: 4,
  FIN_WAIT2: 5,
  TIME_WAIT: 6,
  LAST_ACK: 7,
  CLOSE_WAIT: 8,
  CLOSING: 9,
  CLOSED: 10,
} as const;

/** Bits of Flow.pastDepth: a direction reached the stream inspection depth. */
export const FlowDirection = {
  TO_SERVER: 1,
  TO_CLIENT: 2,
} as const;

/** FlowDirection bits seen from the other side (after Flow.swapDirection). */
function swapDirectionBits(bits: number): number {
  return ((bits & FlowDirection.TO_SERVER) !== 0 ? FlowDirection.TO_CLIENT : 0) |
    ((bits & FlowDirection.TO_CLIENT) !== 0 ? FlowDirection.TO_SERVER : 0);
}

export class Flow {
  /** Stable positive id (< 2^51), like Suricata's flow_id; use it in EVE output. */
  id = 0;
  /** The symmetric 52-bit key hash (FlowTable internal). */
  hash = 0;
  /** Next flow with the same hash (FlowTable internal collision chain). */
  next: Flow | null = null;
  /** Index in the FlowTable's sweep list, -1 when not in a table (FlowTable internal). */
  tableSlot = -1;
  /** The FlowTable's lookup count when this flow was last looked up: its recency (internal). */
  lastTouch = 0;

  ipVersion = 0;
  proto = 0;
  /** Addresses in Packet's 16-byte form (IPv4 mapped as ::ffff:a.b.c.d). */
  readonly clientAddr = new Uint8Array(16);
  readonly serverAddr = new Uint8Array(16);
  clientPort = 0;
  serverPort = 0;
  vlanId0 = 0;
  vlanId1 = 0;

  state: FlowStateValue = FlowState.NEW;
  /** TcpState value (TCP only; NONE until the stream tracker sees the session start). */
  tcpState: number = TcpState.NONE;

  pktsToServer = 0;
  pktsToClient = 0;
  bytesToServer = 0;
  bytesToClient = 0;
  startSec = 0;
  startUsec = 0;
  lastSec = 0;
  lastUsec = 0;

  /** Flowbits set on this flow (bit ids are allocated by the detection engine). */
  flowbits: Set<number> | null = null;
  /** Detected application protocol ("http", "tls", ...), null until known. */
  appProto: string | null = null;
  /** A drop rule matched: every later packet of the flow is dropped too. */
  dropped = false;
  /** A pass rule matched: no more inspection of this flow. */
  passed = false;
  /** The flow is offloaded (connmark BYPASS live); packets may stop arriving. */
  bypassed = false;
  /** FlowDirection bits of directions past the stream inspection depth. */
  pastDepth = 0;
  /** FlowDirection bits of directions that carried payload (the bypass decision reads it). */
  dataDirs = 0;
  /** Why the flow was bypassed (the verdict stage's BypassReason), 0 while it is not. */
  bypassReason = 0;

  /** Per-stage state; each stage owns its own slot and casts it to its own type. */
  streamState: unknown = null;
  appState: unknown = null;
  detectState: unknown = null;
  outputState: unknown = null;

  /**
   * Swap client and server (and their counters): Suricata does this when midstream pickup
   * sees a SYN/ACK first, so that the SYN/ACK's sender is the server.
   */
  swapDirection(): void {
    const tmp = new Uint8Array(16);
    tmp.set(this.clientAddr);
    this.clientAddr.set(this.serverAddr);
    this.serverAddr.set(tmp);
    const port = this.clientPort;
    this.clientPort = this.serverPort;
    this.serverPort = port;
    const pk = this.pktsToServer;
    this.pktsToServer = this.pktsToClient;
    this.pktsToClient = pk;
    const by = this.bytesToServer;
    this.bytesToServer = this.bytesToClient;
    this.bytesToClient = by;
    this.pastDepth = swapDirectionBits(this.pastDepth);
    this.dataDirs = swapDirectionBits(this.dataDirs);
  }

  /** Seconds (with fraction) of the last packet, for timeouts. */
  get lastTime(): number {
    return this.lastSec + this.lastUsec / 1e6;
  }
}
