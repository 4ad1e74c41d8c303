// The stream tracker's per-flow state (kept in Flow.streamState): one reassembler per
// direction plus handshake bookkeeping.
import { ReassemblyLimits, TcpReassembler } from './tcpReassembler';
import { StreamMemory } from './streamMemory';

export class TcpSession {
  /** Bytes client → server. */
  client: TcpReassembler;
  /** Bytes server → client. */
  server: TcpReassembler;
  /** Picked up without seeing the SYN (stream.midstream). */
  midstream = false;
  /** Split handshake: the server answered the SYN with a SYN of its own (4-way). */
  fourWay = false;
  /** Both SYNs carried a window scale option, so later windows are scaled (RFC 7323 §2.2). */
  scaled = false;

  constructor(limits: ReassemblyLimits, memory: StreamMemory) {
    this.client = new TcpReassembler(limits, memory);
    this.server = new TcpReassembler(limits, memory);
  }

  /** Turn the session round (the flow was turned round: see Flow.swapDirection). */
  swap(): void {
    const c = this.client;
    this.client = this.server;
    this.server = c;
  }

  free(): void {
    this.client.free();
    this.server.free();
  }
}
