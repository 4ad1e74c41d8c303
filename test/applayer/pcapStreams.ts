// Test helper: reads a corpus pcap/pcapng and returns, per TCP connection, the payload
// chunks in capture order with retransmissions and overlaps removed (a small in-order
// reassembler), and UDP payloads. Independent of src/decode, src/flow and src/stream on
// purpose, so app-layer tests do not depend on (or hide bugs in) those stages.
import * as fs from 'node:fs';

export interface StreamChunk {
  toServer: boolean;
  data: Uint8Array;
}

export interface Connection {
  key: string;
  client: string;
  server: string;
  clientPort: number;
  serverPort: number;
  chunks: StreamChunk[];
  /** Client FIN/RST seen, server FIN/RST seen. */
  closed: [boolean, boolean];
}

export interface Datagram {
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  data: Uint8Array;
}

interface RawPacket {
  link: number;
  data: Uint8Array;
}

function readPackets(file: string): RawPacket[] {
  const b = fs.readFileSync(file);
  const out: RawPacket[] = [];
  const magic = b.readUInt32LE(0);
  if (magic === 0x0a0d0d0a) {
    // pcapng: IDB (1) gives link types, EPB (6) packets.
    const links: number[] = [];
    let off = 0;
    let le = true;
    while (off + 12 <= b.length) {
      const type = le ? b.readUInt32LE(off) : b.readUInt32BE(off);
      if (type === 0x0a0d0d0a) le = b.readUInt32LE(off + 8) === 0x1a2b3c4d;
      const len = le ? b.readUInt32LE(off + 4) : b.readUInt32BE(off + 4);
      if (type === 1) links.push(le ? b.readUInt16LE(off + 8) : b.readUInt16BE(off + 8));
      if (type === 6) {
        const ifc = le ? b.readUInt32LE(off + 8) : b.readUInt32BE(off + 8);
        const cap = le ? b.readUInt32LE(off + 20) : b.readUInt32BE(off + 20);
        out.push({ link: links[ifc] ?? 1, data: new Uint8Array(b.subarray(off + 28, off + 28 + cap)) });
      }
      if (len < 12) break;
      off += len;
    }
    return out;
  }
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  const rd = (o: number): number => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const link = rd(20) & 0xffff;
  let off = 24;
  while (off + 16 <= b.length) {
    const cap = rd(off + 8);
    out.push({ link, data: new Uint8Array(b.subarray(off + 16, off + 16 + cap)) });
    off += 16 + cap;
  }
  return out;
}

// Returns [ethertype-ish family (4|6), offset of the IP header] or null.
function l3(p: RawPacket): [number, number] | null {
  const d = p.data;
  let off: number;
  let et: number;
  switch (p.link) {
    case 1:
      off = 14;
      et = (d[12]! << 8) | d[13]!;
      while (et === 0x8100 || et === 0x88a8) {
        et = (d[off + 2]! << 8) | d[off + 3]!;
        off += 4;
      }
      break;
    case 0:
    case 108: {
      const fam = p.link === 0 ? d[0]! | (d[1]! << 8) | (d[2]! << 16) | (d[3]! << 24) : (d[0]! << 24) | (d[1]! << 16) | (d[2]! << 8) | d[3]!;
      return [fam === 2 ? 4 : 6, 4];
    }
    case 113:
      off = 16;
      et = (d[14]! << 8) | d[15]!;
      break;
    case 101:
      return [d[0]! >> 4, 0];
    default:
      return null;
  }
  if (et === 0x0800) return [4, off];
  if (et === 0x86dd) return [6, off];
  return null;
}

export interface Capture {
  connections: Connection[];
  datagrams: Datagram[];
}

interface DirState {
  next: number; // next expected seq (-1 until known)
  pending: Map<number, Uint8Array>;
}

export function readCapture(file: string): Capture {
  const conns = new Map<string, Connection & { dirs: [DirState, DirState] }>();
  const order: Array<Connection & { dirs: [DirState, DirState] }> = [];
  const datagrams: Datagram[] = [];
  for (const p of readPackets(file)) {
    const l = l3(p);
    if (!l) continue;
    const [fam, o] = l;
    const d = p.data;
    let proto: number;
    let src: string;
    let dst: string;
    let l4: number;
    let end: number;
    if (fam === 4) {
      const ihl = (d[o]! & 0x0f) * 4;
      proto = d[o + 9]!;
      src = Array.from(d.subarray(o + 12, o + 16)).join('.');
      dst = Array.from(d.subarray(o + 16, o + 20)).join('.');
      l4 = o + ihl;
      end = Math.min(d.length, o + ((d[o + 2]! << 8) | d[o + 3]!));
    } else {
      proto = d[o + 6]!;
      const hex = (s: number): string => Buffer.from(d.subarray(s, s + 16)).toString('hex');
      src = hex(o + 8);
      dst = hex(o + 24);
      l4 = o + 40;
      end = Math.min(d.length, l4 + ((d[o + 4]! << 8) | d[o + 5]!));
    }
    const sp = (d[l4]! << 8) | d[l4 + 1]!;
    const dp = (d[l4 + 2]! << 8) | d[l4 + 3]!;
    if (proto === 17) {
      datagrams.push({ src, dst, srcPort: sp, dstPort: dp, data: d.slice(l4 + 8, end) });
      continue;
    }
    if (proto !== 6) continue;
    const seq = ((d[l4 + 4]! << 24) >>> 0) + (d[l4 + 5]! << 16) + (d[l4 + 6]! << 8) + d[l4 + 7]!;
    const doff = (d[l4 + 12]! >> 4) * 4;
    const flags = d[l4 + 13]!;
    const payload = d.slice(l4 + doff, end);
    const a = `${src}:${sp}`;
    const b = `${dst}:${dp}`;
    let c = conns.get(`${a}-${b}`) ?? conns.get(`${b}-${a}`);
    if (!c) {
      // The client is the SYN sender, else the first sender seen.
      const synAck = (flags & 0x12) === 0x12;
      const [ca, sa, cp, spp] = synAck ? [dst, src, dp, sp] : [src, dst, sp, dp];
      c = {
        key: `${ca}:${cp}-${sa}:${spp}`, client: ca, server: sa, clientPort: cp, serverPort: spp, chunks: [], closed: [false, false],
        dirs: [{ next: -1, pending: new Map() }, { next: -1, pending: new Map() }],
      };
      conns.set(c.key, c);
      order.push(c);
    }
    const toServer = src === c.client && sp === c.clientPort;
    const ds = c.dirs[toServer ? 0 : 1];
    if (flags & 0x02) ds.next = (seq + 1) >>> 0;
    else if (ds.next < 0) ds.next = seq;
    if (flags & 0x05) c.closed[toServer ? 0 : 1] = true;
    if (payload.length === 0) continue;
    let s = (flags & 0x02) ? (seq + 1) >>> 0 : seq;
    ds.pending.set(s, payload);
    // Drain in order.
    for (;;) {
      let progressed = false;
      for (const [ps, pd] of ds.pending) {
        const rel = (ps - ds.next) | 0;
        if (rel <= 0) {
          ds.pending.delete(ps);
          if (-rel < pd.length) {
            const fresh = pd.subarray(-rel);
            c.chunks.push({ toServer, data: fresh });
            ds.next = (ds.next + fresh.length) >>> 0;
          }
          progressed = true;
        }
      }
      if (!progressed) break;
    }
    s = 0;
  }
  return { connections: order.map(({ dirs: _d, ...rest }) => rest), datagrams };
}

/** Concatenates one direction of a connection. */
export function directionBytes(c: Connection, toServer: boolean): Uint8Array {
  return Uint8Array.from(Buffer.concat(c.chunks.filter((x) => x.toServer === toServer).map((x) => x.data)));
}
