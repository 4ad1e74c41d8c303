// pcapng reader (draft-ietf-opsawg-pcapng): Section Header (both byte orders, several sections
// per file), Interface Description (per-interface link type, if_tsresol, if_tsoffset),
// Enhanced Packet, Simple Packet and the obsolete Packet block. Other blocks (name resolution,
// statistics, secrets, custom) are skipped.
import { LateralError } from '../errors';
import { CaptureReader, CaptureRecord } from './pcapRecord';
import { PcapFileBytes } from './pcapFileBytes';

export const PCAPNG_SHB = 0x0a0d0d0a;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const BLOCK_IDB = 1;
const BLOCK_PB = 2;
const BLOCK_SPB = 3;
const BLOCK_EPB = 6;
const OPT_END = 0;
const OPT_IF_TSRESOL = 9;
const OPT_IF_TSOFFSET = 14;
const MAX_BLOCK = 16 * 1024 * 1024;

interface PcapngInterface {
  linkType: number;
  snaplen: number;
  /** Timestamp units per second (10^6 unless if_tsresol says otherwise). */
  unitsPerSecond: number;
  /** if_tsoffset: seconds added to every timestamp. */
  offsetSec: number;
}

export class PcapngReader implements CaptureReader {
  readonly path: string;
  readonly format = 'pcapng' as const;
  private readonly bytes: PcapFileBytes;
  private bigEndian = false;
  private interfaces: PcapngInterface[] = [];
  private readonly record: CaptureRecord = { data: new Uint8Array(0), linkType: 0, tsSec: 0, tsUsec: 0, wireLength: 0, index: 0 };
  private index = 0;

  constructor(path: string, bytes?: PcapFileBytes) {
    this.path = path;
    this.bytes = bytes ?? new PcapFileBytes(path);
    const at = this.bytes.ensure(12);
    const buf = this.bytes.buffer;
    if (at < 0 || this.u32be(buf, at) !== PCAPNG_SHB) this.fail('not a pcapng file (no section header block)', 0);
  }

  /** Link types of the interfaces of the current section, in IDB order. */
  get interfaceLinkTypes(): number[] {
    return this.interfaces.map((i) => i.linkType);
  }

  next(): CaptureRecord | null {
    const bytes = this.bytes;
    for (;;) {
      const blockOffset = bytes.offset;
      let at = bytes.ensure(8);
      if (at < 0) {
        if (bytes.available === 0) return null;
        this.fail(`truncated block header (${bytes.available} bytes)`, blockOffset);
      }
      let buf = bytes.buffer;
      if (this.u32be(buf, at) === PCAPNG_SHB) {
        // A new section: its byte-order magic decides how to read everything up to the next one.
        at = bytes.ensure(12);
        if (at < 0) this.fail('truncated section header block', blockOffset);
        buf = bytes.buffer;
        const magicBe = this.u32be(buf, at + 8);
        if (magicBe === BYTE_ORDER_MAGIC) this.bigEndian = true;
        else if (this.u32le(buf, at + 8) === BYTE_ORDER_MAGIC) this.bigEndian = false;
        else this.fail(`bad byte-order magic 0x${magicBe.toString(16)} in section header`, blockOffset);
        this.interfaces = [];
      }
      const type = this.u32(buf, at);
      const length = this.u32(buf, at + 4);
      if (length < 12 || length % 4 !== 0 || length > MAX_BLOCK) this.fail(`bad block length ${length} (block type ${type})`, blockOffset);
      at = bytes.ensure(length);
      if (at < 0) this.fail(`truncated block: ${bytes.available} of ${length} bytes (block type ${type})`, blockOffset);
      buf = bytes.buffer;
      if (this.u32(buf, at + length - 4) !== length) this.fail(`block length ${length} does not match its trailer (block type ${type})`, blockOffset);
      const body = at + 8;
      const bodyEnd = at + length - 4;
      let record: CaptureRecord | null = null;
      if (type === BLOCK_IDB) this.readInterface(buf, body, bodyEnd, blockOffset);
      else if (type === BLOCK_EPB || type === BLOCK_PB) record = this.readPacket(buf, type, body, bodyEnd, blockOffset);
      else if (type === BLOCK_SPB) record = this.readSimple(buf, body, bodyEnd, blockOffset);
      bytes.skip(length);
      if (record !== null) return record;
    }
  }

  *[Symbol.iterator](): Iterator<CaptureRecord> {
    for (let r = this.next(); r !== null; r = this.next()) yield r;
  }

  close(): void {
    this.bytes.close();
  }

  private readInterface(buf: Uint8Array, body: number, end: number, blockOffset: number): void {
    if (body + 8 > end) this.fail('interface description block too short', blockOffset);
    const iface: PcapngInterface = {
      linkType: this.u16(buf, body),
      snaplen: this.u32(buf, body + 4),
      unitsPerSecond: 1e6,
      offsetSec: 0,
    };
    let at = body + 8;
    while (at + 4 <= end) {
      const code = this.u16(buf, at);
      const len = this.u16(buf, at + 2);
      if (code === OPT_END) break;
      if (at + 4 + len > end) this.fail(`interface option ${code} overruns its block`, blockOffset);
      if (code === OPT_IF_TSRESOL && len >= 1) {
        const v = buf[at + 4]!;
        // MSB clear: 10^-v seconds; set: 2^-(v & 0x7f).
        const units = v & 0x80 ? 2 ** (v & 0x7f) : 10 ** v;
        if (units < 1 || units > 2 ** 36) this.fail(`unsupported if_tsresol ${v}`, blockOffset);
        iface.unitsPerSecond = units;
      } else if (code === OPT_IF_TSOFFSET && len >= 8) {
        // Signed 64-bit seconds; the high word is 0 or -1 for any real offset.
        const hi = this.u32(buf, at + 4 + (this.bigEndian ? 0 : 4)) | 0;
        const lo = this.u32(buf, at + 4 + (this.bigEndian ? 4 : 0));
        iface.offsetSec = hi * 0x100000000 + lo;
      }
      at += 4 + ((len + 3) & ~3);
    }
    this.interfaces.push(iface);
  }

  private readPacket(buf: Uint8Array, type: number, body: number, end: number, blockOffset: number): CaptureRecord {
    if (body + 20 > end) this.fail('packet block too short', blockOffset);
    const ifaceId = type === BLOCK_EPB ? this.u32(buf, body) : this.u16(buf, body);
    const iface = this.interfaces[ifaceId];
    if (iface === undefined) this.fail(`packet refers to interface ${ifaceId}, but the section has ${this.interfaces.length}`, blockOffset);
    const caplen = this.u32(buf, body + 12);
    if (body + 20 + caplen > end) this.fail(`packet data (${caplen} bytes) overruns its block`, blockOffset);
    const r = this.fill(body + 20, caplen, this.u32(buf, body + 16), iface);
    this.setTime(r, iface, this.u32(buf, body + 4), this.u32(buf, body + 8));
    return r;
  }

  private readSimple(buf: Uint8Array, body: number, end: number, blockOffset: number): CaptureRecord {
    const iface = this.interfaces[0];
    if (iface === undefined) this.fail('simple packet block before any interface description', blockOffset);
    if (body + 4 > end) this.fail('simple packet block too short', blockOffset);
    const wire = this.u32(buf, body);
    let caplen = Math.min(wire, end - body - 4);
    if (iface.snaplen > 0) caplen = Math.min(caplen, iface.snaplen);
    const r = this.fill(body + 4, caplen, wire, iface);
    // SPBs carry no timestamp.
    r.tsSec = 0;
    r.tsUsec = 0;
    return r;
  }

  private fill(dataAt: number, caplen: number, wire: number, iface: PcapngInterface): CaptureRecord {
    this.index++;
    const r = this.record;
    r.data = this.bytes.buffer.subarray(dataAt, dataAt + caplen);
    r.linkType = iface.linkType;
    r.wireLength = wire;
    r.index = this.index;
    return r;
  }

  /** (hi:lo) units → seconds + microseconds, by long division in 16-bit steps (exact, no BigInt). */
  private setTime(r: CaptureRecord, iface: PcapngInterface, hi: number, lo: number): void {
    const u = iface.unitsPerSecond;
    const q1 = Math.floor(hi / u);
    const x = (hi % u) * 65536 + (lo >>> 16);
    const q2 = Math.floor(x / u);
    const y = (x % u) * 65536 + (lo & 0xffff);
    const q3 = Math.floor(y / u);
    const frac = y % u;
    r.tsSec = q1 * 0x100000000 + q2 * 65536 + q3 + iface.offsetSec;
    r.tsUsec = Math.floor((frac * 1e6) / u);
  }

  private u16(buf: Uint8Array, at: number): number {
    return this.bigEndian ? (buf[at]! << 8) | buf[at + 1]! : (buf[at + 1]! << 8) | buf[at]!;
  }

  private u32(buf: Uint8Array, at: number): number {
    return this.bigEndian ? this.u32be(buf, at) : this.u32le(buf, at);
  }

  private u32be(buf: Uint8Array, at: number): number {
    return ((buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!) >>> 0;
  }

  private u32le(buf: Uint8Array, at: number): number {
    return ((buf[at + 3]! << 24) | (buf[at + 2]! << 16) | (buf[at + 1]! << 8) | buf[at]!) >>> 0;
  }

  private fail(cause: string, offset: number): never {
    throw new LateralError('LATERAL_ERR_PCAP', `${cause} at byte ${offset}, after record ${this.index}`, { file: this.path, line: 0 });
  }
}
