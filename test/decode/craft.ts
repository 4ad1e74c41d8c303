// Builds packets byte by byte for the decode, flow and stream tests (with correct checksums
// unless told otherwise). Deliberately written apart from src/decode/checksum.ts so a bug
// there cannot hide in both.

export function ones(bytes: number[]): number {
  let s = 0;
  for (let i = 0; i < bytes.length; i += 2) s += (bytes[i]! << 8) + (bytes[i + 1] ?? 0);
  while (s > 0xffff) s = (s >>> 16) + (s & 0xffff);
  return ~s & 0xffff;
}

export function u16(v: number): number[] {
  return [(v >>> 8) & 0xff, v & 0xff];
}

export function u32(v: number): number[] {
  return [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}

export function ip4(a: string): number[] {
  return a.split('.').map(Number);
}

export function ip6(a: string): number[] {
  // Expands "::" and returns 16 bytes.
  const [head, tail] = a.includes('::') ? a.split('::') : [a, ''];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.flatMap((g) => u16(parseInt(g, 16)));
}

export interface TcpOpts {
  sport?: number;
  dport?: number;
  seq?: number;
  ack?: number;
  flags?: number;
  window?: number;
  options?: number[];
  payload?: number[] | string;
  badChecksum?: boolean;
}

function payloadBytes(p: number[] | string | undefined): number[] {
  if (p === undefined) return [];
  return typeof p === 'string' ? [...Buffer.from(p, 'latin1')] : p;
}

export function tcpSegment(src: number[], dst: number[], o: TcpOpts): number[] {
  const opts = o.options ?? [];
  while (opts.length % 4 !== 0) opts.push(0);
  const data = payloadBytes(o.payload);
  const hlen = 20 + opts.length;
  const seg = [
    ...u16(o.sport ?? 1234), ...u16(o.dport ?? 80), ...u32(o.seq ?? 0), ...u32(o.ack ?? 0),
    (hlen / 4) << 4, o.flags ?? 0x10, ...u16(o.window ?? 65535), 0, 0, 0, 0, ...opts, ...data,
  ];
  const pseudo = src.length === 4
    ? [...src, ...dst, 0, 6, ...u16(seg.length)]
    : [...src, ...dst, ...u32(seg.length), 0, 0, 0, 6];
  let sum = ones([...pseudo, ...seg]);
  if (o.badChecksum) sum = (sum + 1) & 0xffff;
  seg[16] = sum >>> 8;
  seg[17] = sum & 0xff;
  return seg;
}

export function udpDatagram(src: number[], dst: number[], sport: number, dport: number, payload: number[] | string, badChecksum = false): number[] {
  const data = payloadBytes(payload);
  const seg = [...u16(sport), ...u16(dport), ...u16(8 + data.length), 0, 0, ...data];
  const pseudo = src.length === 4 ? [...src, ...dst, 0, 17, ...u16(seg.length)] : [...src, ...dst, ...u32(seg.length), 0, 0, 0, 17];
  let sum = ones([...pseudo, ...seg]);
  if (sum === 0) sum = 0xffff;
  if (badChecksum) sum = (sum + 1) & 0xffff;
  seg[6] = sum >>> 8;
  seg[7] = sum & 0xff;
  return seg;
}

export function icmpEcho(type: number, id: number, seq: number, payload: number[] = []): number[] {
  const msg = [type, 0, 0, 0, ...u16(id), ...u16(seq), ...payload];
  const sum = ones(msg);
  msg[2] = sum >>> 8;
  msg[3] = sum & 0xff;
  return msg;
}

export function icmpv6Echo(src: number[], dst: number[], type: number, id: number, seq: number): number[] {
  const msg = [type, 0, 0, 0, ...u16(id), ...u16(seq)];
  const sum = ones([...src, ...dst, ...u32(msg.length), 0, 0, 0, 58, ...msg]);
  msg[2] = sum >>> 8;
  msg[3] = sum & 0xff;
  return msg;
}

export interface Ipv4Opts {
  proto: number;
  ttl?: number;
  id?: number;
  flagsFrag?: number;
  options?: number[];
  badChecksum?: boolean;
}

export function ipv4(src: string, dst: string, o: Ipv4Opts, payload: number[]): number[] {
  const opts = o.options ?? [];
  const hlen = 20 + opts.length;
  const h = [
    0x40 | (hlen / 4), 0, ...u16(hlen + payload.length), ...u16(o.id ?? 1), ...u16(o.flagsFrag ?? 0),
    o.ttl ?? 64, o.proto, 0, 0, ...ip4(src), ...ip4(dst), ...opts,
  ];
  let sum = ones(h);
  if (o.badChecksum) sum = (sum + 1) & 0xffff;
  h[10] = sum >>> 8;
  h[11] = sum & 0xff;
  return [...h, ...payload];
}

/** IPv6 header + already-built extension headers and payload; nextHeader is the first one's type. */
export function ipv6(src: string, dst: string, nextHeader: number, rest: number[]): number[] {
  return [0x60, 0, 0, 0, ...u16(rest.length), nextHeader, 64, ...ip6(src), ...ip6(dst), ...rest];
}

export function ethernet(etherType: number, payload: number[], vlans: Array<[number, number]> = []): number[] {
  const macs = [0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01];
  // dst, src, then per tag its TPID and TCI, then the inner EtherType.
  const out: number[] = [...macs];
  for (const [tpid, vid] of vlans) out.push(...u16(tpid), ...u16(vid));
  return [...out, ...u16(etherType), ...payload];
}

/** IPv4/TCP in Ethernet: the common case of the flow and stream tests. */
export function tcp4(src: string, dst: string, o: TcpOpts): Uint8Array {
  const s = ip4(src);
  const d = ip4(dst);
  return Uint8Array.from(ethernet(0x0800, ipv4(src, dst, { proto: 6 }, tcpSegment(s, d, o))));
}

/**
 * The three frames of a TCP 3-way handshake between client:cport and server:sport, with
 * initial sequence numbers cisn and sisn (data then starts at cisn + 1 and sisn + 1).
 */
export function tcpHandshake4(client: string, server: string, cport: number, sport: number, cisn: number, sisn: number): Uint8Array[] {
  const SYN = 0x02, ACK = 0x10;
  return [
    tcp4(client, server, { sport: cport, dport: sport, seq: cisn, flags: SYN }),
    tcp4(server, client, { sport, dport: cport, seq: sisn, ack: cisn + 1, flags: SYN | ACK }),
    tcp4(client, server, { sport: cport, dport: sport, seq: cisn + 1, ack: sisn + 1, flags: ACK }),
  ];
}
