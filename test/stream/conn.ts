// Test helper: a TCP conversation between two endpoints, built packet by packet and pushed
// through the real decode → FlowTable → StreamTracker path.
import { decodePacket } from '../../src/decode/decodePacket';
import { DecodeContext } from '../../src/decode/decodeStats';
import { LinkType, Packet, TcpFlag } from '../../src/decode/packet';
import { FlowLookup, FlowTable } from '../../src/flow/flowTable';
import { StreamConfig, StreamResult, StreamTracker } from '../../src/stream/streamTracker';
import { tcp4, TcpOpts } from '../decode/craft';

export interface Seen {
  session: boolean;
  ignored: boolean;
  toServer: boolean;
  /** Reassembled window (lookbehind + new) and the new part, as latin1 strings. */
  data: string;
  fresh: string;
  streamOffset: number;
  segment: number;
  gap: boolean;
  pastDepth: boolean;
  established: boolean;
  closed: boolean;
  done: boolean;
}

export class Conn {
  readonly table = new FlowTable();
  readonly tracker: StreamTracker;
  readonly ctx = new DecodeContext('all');
  private readonly p = new Packet();
  lookup: FlowLookup | null = null;
  time = 1000;

  constructor(config: Partial<StreamConfig> = {}, readonly client = '10.0.0.1', readonly server = '10.0.0.2', readonly cport = 40000, readonly sport = 80) {
    this.tracker = new StreamTracker(config);
  }

  /** Send from the client (c = true) or server with the given TCP fields. */
  send(fromClient: boolean, o: TcpOpts): Seen {
    const bytes = fromClient
      ? tcp4(this.client, this.server, { sport: this.cport, dport: this.sport, ...o })
      : tcp4(this.server, this.client, { sport: this.sport, dport: this.cport, ...o });
    decodePacket(this.p, bytes, LinkType.ETHERNET, this.ctx);
    this.p.tsSec = this.time++;
    const l = this.table.lookup(this.p);
    if (l === null) throw new Error('no flow');
    this.lookup = l;
    return snapshot(this.tracker.handle(this.p, l.flow, l.toServer));
  }

  /** The usual 3-way handshake with the given ISNs. */
  handshake(cisn: number, sisn: number): void {
    this.send(true, { flags: TcpFlag.SYN, seq: cisn });
    this.send(false, { flags: TcpFlag.SYN | TcpFlag.ACK, seq: sisn, ack: (cisn + 1) >>> 0 });
    this.send(true, { flags: TcpFlag.ACK, seq: (cisn + 1) >>> 0, ack: (sisn + 1) >>> 0 });
  }
}

export function snapshot(r: StreamResult): Seen {
  return {
    session: r.session,
    ignored: r.ignored,
    toServer: r.toServer,
    data: Buffer.from(r.data()).toString('latin1'),
    fresh: Buffer.from(r.newData()).toString('latin1'),
    streamOffset: r.streamOffset,
    segment: r.segment,
    gap: r.gap,
    pastDepth: r.pastDepth,
    established: r.established,
    closed: r.closed,
    done: r.done,
  };
}

export const PA = TcpFlag.PSH | TcpFlag.ACK;
