// DNS messages (RFC 1035 §4.1) over UDP and TCP (RFC 1035 §4.2.2, RFC 7766 length prefix).
//
// Decodes the header, the questions and a summary of the answers. Names are given as
// dotted text without the trailing dot, the form of Suricata's `dns.query` buffer and EVE
// `dns.rrname`. Compression pointers are followed with a hop limit; anything malformed
// yields null (the caller counts it), never an exception.
import { latin1Text } from './latin1Text';

export interface DnsQuestion {
  /** Dotted name without trailing dot, bytes as on the wire (latin1). "" for the root. */
  name: string;
  /** The same name as bytes, for the `dns.query` sticky buffer. */
  nameBytes: Uint8Array;
  type: number;
  class: number;
}

export interface DnsAnswer {
  name: string;
  type: number;
  class: number;
  ttl: number;
  /** Printable summary of the RDATA: an address for A/AAAA, a name for CNAME/NS/PTR/MX. */
  data: string;
}

export interface DnsMessage {
  id: number;
  /** QR bit: true for a response. */
  response: boolean;
  opcode: number;
  rcode: number;
  flags: number;
  questions: DnsQuestion[];
  answers: DnsAnswer[];
  /** Authority + additional records seen (not decoded). */
  otherRecords: number;
}

/** Suricata's rrtype names (DNSRRTypeToString, the common ones). */
export const DNS_RR_TYPE_NAMES: Readonly<Record<number, string>> = {
  1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 10: 'NULL', 12: 'PTR', 13: 'HINFO', 15: 'MX', 16: 'TXT',
  28: 'AAAA', 33: 'SRV', 35: 'NAPTR', 39: 'DNAME', 41: 'OPT', 43: 'DS', 46: 'RRSIG', 47: 'NSEC',
  48: 'DNSKEY', 52: 'TLSA', 64: 'SVCB', 65: 'HTTPS', 99: 'SPF', 252: 'AXFR', 255: 'ANY', 257: 'CAA',
};

export const DNS_RCODE_NAMES: readonly string[] = [
  'NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE',
];

const MAX_NAME = 255;
const MAX_HOPS = 16;

// Reads a name at `off`; returns the offset after it in the original position, or -1.
// Fills `out` with the dotted bytes.
function readName(d: Uint8Array, msgStart: number, end: number, off: number, out: number[]): number {
  let pos = off;
  let after = -1;
  let hops = 0;
  for (;;) {
    if (pos >= end) return -1;
    const len = d[pos]!;
    if (len === 0) {
      pos++;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      if (pos + 1 >= end || ++hops > MAX_HOPS) return -1;
      const ptr = ((len & 0x3f) << 8) | d[pos + 1]!;
      if (after < 0) after = pos + 2;
      pos = msgStart + ptr;
      continue;
    }
    if ((len & 0xc0) !== 0) return -1; // 0x40/0x80: extended label types, unused in practice
    if (pos + 1 + len > end) return -1;
    if (out.length > 0) out.push(0x2e);
    for (let i = 0; i < len; i++) out.push(d[pos + 1 + i]!);
    if (out.length > MAX_NAME) return -1;
    pos += 1 + len;
  }
  return after >= 0 ? after : pos;
}

function u16(d: Uint8Array, o: number): number {
  return (d[o]! << 8) | d[o + 1]!;
}

function rdataSummary(d: Uint8Array, msgStart: number, off: number, len: number, type: number): string {
  if (type === 1 && len === 4) return `${d[off]}.${d[off + 1]}.${d[off + 2]}.${d[off + 3]}`;
  if (type === 28 && len === 16) {
    const parts: string[] = [];
    for (let i = 0; i < 16; i += 2) parts.push(u16(d, off + i).toString(16));
    return parts.join(':');
  }
  if (type === 5 || type === 2 || type === 12 || type === 15) {
    const name: number[] = [];
    const at = type === 15 ? off + 2 : off;
    if (readName(d, msgStart, off + len, at, name) < 0) return '';
    return Buffer.from(name).toString('latin1');
  }
  return '';
}

/** Parses one DNS message in data[start..end). Null when malformed. */
export function parseDns(data: Uint8Array, start: number, end: number): DnsMessage | null {
  if (end - start < 12) return null;
  const flags = u16(data, start + 2);
  const qd = u16(data, start + 4);
  const an = u16(data, start + 6);
  const ns = u16(data, start + 8);
  const ar = u16(data, start + 10);
  const msg: DnsMessage = {
    id: u16(data, start),
    response: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0xf,
    rcode: flags & 0xf,
    flags,
    questions: [],
    answers: [],
    otherRecords: 0,
  };
  let off = start + 12;
  const name: number[] = [];
  for (let i = 0; i < qd; i++) {
    name.length = 0;
    off = readName(data, start, end, off, name);
    if (off < 0 || off + 4 > end) return null;
    const nameBytes = Uint8Array.from(name);
    msg.questions.push({
      name: latin1Text(nameBytes),
      nameBytes,
      type: u16(data, off),
      class: u16(data, off + 2),
    });
    off += 4;
  }
  const records = an + ns + ar;
  for (let i = 0; i < records; i++) {
    name.length = 0;
    off = readName(data, start, end, off, name);
    if (off < 0 || off + 10 > end) return null;
    const type = u16(data, off);
    const rdlen = u16(data, off + 8);
    if (off + 10 + rdlen > end) return null;
    if (i < an) {
      msg.answers.push({
        name: Buffer.from(name).toString('latin1'),
        type,
        class: u16(data, off + 2),
        ttl: ((data[off + 4]! << 24) >>> 0) + (data[off + 5]! << 16) + (data[off + 6]! << 8) + data[off + 7]!,
        data: rdataSummary(data, start, off + 10, rdlen, type),
      });
    } else {
      msg.otherRecords++;
    }
    off += 10 + rdlen;
  }
  return msg;
}

/**
 * Detection probe. Returns 1 when the bytes are a plausible DNS message for the direction,
 * 0 when more bytes are needed (TCP), -1 when they are not DNS. Like Suricata's DNS probing
 * parser it requires a well-formed header and question section and QR matching the direction.
 */
export function probeDns(data: Uint8Array, start: number, end: number, tcp: boolean, toServer: boolean): number {
  let s = start;
  let e = end;
  if (tcp) {
    if (e - s < 2) return 0;
    const len = u16(data, s);
    if (len < 12 || len > 65535) return -1;
    if (e - s < 2 + 12) return 0;
    s += 2;
    // Judge on what is there if the message is not complete yet but the header is.
    if (e - s > len) e = s + len;
    else if (e - s < len) {
      const qr = (data[s + 2]! & 0x80) !== 0;
      if (qr === toServer) return -1;
      if (((data[s + 2]! >> 3) & 0xf) > 5) return -1;
      if (u16(data, s + 4) === 0 || u16(data, s + 4) > 16) return -1;
      return 0;
    }
  }
  if (e - s < 12) return -1;
  const qr = (data[s + 2]! & 0x80) !== 0;
  if (qr === toServer) return -1;
  if (((data[s + 2]! >> 3) & 0xf) > 5) return -1; // opcodes 0..5 are assigned
  const qd = u16(data, s + 4);
  if (qd === 0 || qd > 16) return -1;
  const name: number[] = [];
  let off = s + 12;
  for (let i = 0; i < qd; i++) {
    name.length = 0;
    off = readName(data, s, e, off, name);
    if (off < 0 || off + 4 > e) return -1;
    off += 4;
  }
  return 1;
}

/**
 * DNS over TCP for one direction: reassembles length-prefixed messages across any split.
 * Buffers at most one message (≤ 65537 bytes).
 */
export class DnsTcpFramer {
  private buf = new Uint8Array(0);
  private used = 0;

  /** Appends stream bytes; calls `onMessage(bytes, start, end)` per complete message. */
  feed(data: Uint8Array, start: number, end: number, onMessage: (d: Uint8Array, s: number, e: number) => void): void {
    let s = start;
    while (s < end) {
      if (this.used === 0 && end - s >= 2) {
        const len = u16(data, s);
        if (end - s >= 2 + len) {
          onMessage(data, s + 2, s + 2 + len);
          s += 2 + len;
          continue;
        }
      }
      // Partial message: copy into the buffer.
      const need = this.used < 2 ? 2 : 2 + u16(this.buf, 0);
      const take = Math.min(need - this.used, end - s);
      if (this.buf.length < need) {
        const nb = new Uint8Array(Math.max(need, 2 + 512));
        nb.set(this.buf.subarray(0, this.used));
        this.buf = nb;
      }
      this.buf.set(data.subarray(s, s + take), this.used);
      this.used += take;
      s += take;
      if (this.used >= 2 && this.used === 2 + u16(this.buf, 0)) {
        onMessage(this.buf, 2, this.used);
        this.used = 0;
      }
    }
  }
}
