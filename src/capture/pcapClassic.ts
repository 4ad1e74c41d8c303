// Classic libpcap files: both byte orders, microsecond (0xa1b2c3d4) and nanosecond
// (0xa1b23c4d) timestamps, link type from the global header (its low 16 bits; the upper bits
// hold FCS information, see draft-ietf-opsawg-pcap).
//
// Own reader rather than the `pcap-parser` package: that one is stream/event based (async,
// one Buffer and object per packet), knows no nanosecond variant and reports truncation
// without the byte offset. A sync pull reader with reused records fits the replay loop and
// shares its error reporting with the pcapng reader.
import { LateralError } from '../errors';
import { CaptureReader, CaptureRecord } from './pcapRecord';
import { PcapFileBytes } from './pcapFileBytes';

export const PCAP_MAGIC_USEC = 0xa1b2c3d4;
export const PCAP_MAGIC_NSEC = 0xa1b23c4d;
const GLOBAL_HEADER = 24;
const RECORD_HEADER = 16;
/** Larger than any sane snaplen (libpcap's maximum is 256 KiB; GSO frames reach 64 KiB). */
const MAX_RECORD = 16 * 1024 * 1024;

export class PcapClassicReader implements CaptureReader {
  readonly path: string;
  readonly format = 'pcap' as const;
  readonly linkType: number;
  readonly snaplen: number;
  readonly nanosecond: boolean;
  readonly bigEndian: boolean;
  readonly versionMajor: number;
  readonly versionMinor: number;
  private readonly bytes: PcapFileBytes;
  private readonly record: CaptureRecord = { data: new Uint8Array(0), linkType: 0, tsSec: 0, tsUsec: 0, wireLength: 0, index: 0 };
  private index = 0;

  /** Opens the file and reads the global header (throws LATERAL_ERR_PCAP if it is not one). */
  constructor(path: string, bytes?: PcapFileBytes) {
    this.path = path;
    this.bytes = bytes ?? new PcapFileBytes(path);
    const at = this.bytes.ensure(GLOBAL_HEADER);
    if (at < 0) this.fail(`file too short for a pcap global header (${this.bytes.available} of ${GLOBAL_HEADER} bytes)`, 0);
    const view = new DataView(this.bytes.buffer.buffer, this.bytes.buffer.byteOffset + at, GLOBAL_HEADER);
    const magicLe = view.getUint32(0, true);
    const magicBe = view.getUint32(0, false);
    if (magicLe === PCAP_MAGIC_USEC || magicLe === PCAP_MAGIC_NSEC) {
      this.bigEndian = false;
      this.nanosecond = magicLe === PCAP_MAGIC_NSEC;
    } else if (magicBe === PCAP_MAGIC_USEC || magicBe === PCAP_MAGIC_NSEC) {
      this.bigEndian = true;
      this.nanosecond = magicBe === PCAP_MAGIC_NSEC;
    } else {
      this.fail(`not a pcap file (magic 0x${magicBe.toString(16).padStart(8, '0')})`, 0);
    }
    const le = !this.bigEndian;
    this.versionMajor = view.getUint16(4, le);
    this.versionMinor = view.getUint16(6, le);
    this.snaplen = view.getUint32(16, le);
    this.linkType = view.getUint32(20, le) & 0xffff;
    this.bytes.skip(GLOBAL_HEADER);
  }

  next(): CaptureRecord | null {
    const bytes = this.bytes;
    const recordOffset = bytes.offset;
    const at = bytes.ensure(RECORD_HEADER);
    if (at < 0) {
      if (bytes.available === 0) return null;
      this.fail(`truncated record header (${bytes.available} of ${RECORD_HEADER} bytes)`, recordOffset);
    }
    const buf = bytes.buffer;
    const tsSec = this.u32(buf, at);
    const frac = this.u32(buf, at + 4);
    const caplen = this.u32(buf, at + 8);
    const wire = this.u32(buf, at + 12);
    if (caplen > MAX_RECORD) this.fail(`record length ${caplen} is implausible (corrupt file?)`, recordOffset);
    const dataAt = bytes.ensure(RECORD_HEADER + caplen);
    if (dataAt < 0) this.fail(`truncated record: ${bytes.available - RECORD_HEADER} of ${caplen} bytes`, recordOffset);
    this.index++;
    const r = this.record;
    r.data = bytes.buffer.subarray(dataAt + RECORD_HEADER, dataAt + RECORD_HEADER + caplen);
    r.linkType = this.linkType;
    r.tsSec = tsSec;
    r.tsUsec = this.nanosecond ? Math.floor(frac / 1000) : frac;
    r.wireLength = wire;
    r.index = this.index;
    bytes.skip(RECORD_HEADER + caplen);
    return r;
  }

  *[Symbol.iterator](): Iterator<CaptureRecord> {
    for (let r = this.next(); r !== null; r = this.next()) yield r;
  }

  close(): void {
    this.bytes.close();
  }

  private u32(buf: Uint8Array, at: number): number {
    return this.bigEndian
      ? ((buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!) >>> 0
      : ((buf[at + 3]! << 24) | (buf[at + 2]! << 16) | (buf[at + 1]! << 8) | buf[at]!) >>> 0;
  }

  private fail(cause: string, offset: number): never {
    throw new LateralError('LATERAL_ERR_PCAP', `${cause} at byte ${offset}, after record ${this.index}`, { file: this.path, line: 0 });
  }
}
