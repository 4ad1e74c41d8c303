// Classic pcap framing for evidence files (the libpcap format tcpdump and Wireshark read:
// 24-byte global header, 16-byte header per record, microsecond timestamps, host order
// little-endian as Suricata's pcap-log writes it on x86).

export const PCAP_GLOBAL_HEADER_BYTES = 24;
export const PCAP_RECORD_HEADER_BYTES = 16;
const PCAP_MAGIC_USEC = 0xa1b2c3d4;

/** Writes the global header at `at`; returns the offset after it. */
export function writePcapGlobalHeader(out: Buffer, at: number, linkType: number, snaplen: number): number {
  out.writeUInt32LE(PCAP_MAGIC_USEC, at);
  out.writeUInt16LE(2, at + 4);
  out.writeUInt16LE(4, at + 6);
  out.writeInt32LE(0, at + 8); // thiszone: timestamps are UTC
  out.writeUInt32LE(0, at + 12); // sigfigs
  out.writeUInt32LE(snaplen, at + 16);
  out.writeUInt32LE(linkType, at + 20);
  return at + PCAP_GLOBAL_HEADER_BYTES;
}

/** Writes one record header at `at`; returns the offset where its bytes go. */
export function writePcapRecordHeader(out: Buffer, at: number, tsSec: number, tsUsec: number, capturedLength: number, wireLength: number): number {
  out.writeUInt32LE(tsSec >>> 0, at);
  out.writeUInt32LE(tsUsec >>> 0, at + 4);
  out.writeUInt32LE(capturedLength, at + 8);
  out.writeUInt32LE(Math.max(wireLength, capturedLength), at + 12);
  return at + PCAP_RECORD_HEADER_BYTES;
}
