// The decoded view of one packet, shared by every stage after capture.
//
// A Packet holds offsets into the captured bytes rather than copies of each layer, so the
// live path can reuse one Packet object per batch slot and decode into it without
// allocating (see ../../STYLE: "decode into views over one buffer"). Stages after decode
// read fields; only the decoders write them.

/** Link-layer types, numbered as in pcap's LINKTYPE_* registry. */
export const LinkType = {
  NULL: 0,
  ETHERNET: 1,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

export const IpProto = {
  ICMP: 1,
  TCP: 6,
  UDP: 17,
  ICMPV6: 58,
} as const;

export const TcpFlag = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
} as const;

/** Where the packet came from on the live path (NFQUEUE metadata); zero offline. */
export interface QueueMetadata {
  queuePacketId: number;
  hwProtocol: number;
  mark: number;
  inIfindex: number;
  outIfindex: number;
  physInIfindex: number;
  physOutIfindex: number;
  skbFlags: number;
}

export class Packet {
  /**
   * The buffer holding the captured frame: the frame is data[dataStart, dataEnd), starting at
   * the link layer given by linkType. Offsets below index `data`, so on the live path `data`
   * is the whole batch arena and no view is made per packet (decodePacketAt).
   */
  data: Uint8Array = new Uint8Array(0);
  dataStart = 0;
  dataEnd = 0;
  linkType: number = LinkType.ETHERNET;
  /** Capture time: whole seconds and microseconds since the epoch. */
  tsSec = 0;
  tsUsec = 0;
  /** Length on the wire (may exceed capturedLength when the capture was truncated). */
  wireLength = 0;
  /** 1-based index in the pcap (Suricata's pcap_cnt); 0 on the live path. */
  pcapIndex = 0;

  /** Offset of the Ethernet header in data (for MAC addresses), or -1 for other link types. */
  l2Offset = -1;
  /** The EtherType (or SLL protocol) of the layer-3 payload after VLAN tags; 0 when unknown. */
  etherType = 0;
  /** 802.1Q / 802.1ad tags seen (outer first); Suricata keys flows on up to two. */
  vlanCount = 0;
  vlanId0 = 0;
  vlanId1 = 0;

  /** Offset of the IP header in data, or -1 when none was decoded. */
  l3Offset = -1;
  /** 4 or 6; 0 when not IP. */
  ipVersion = 0;
  ipHeaderLength = 0;
  /** Total length of the IP packet as the header states it (trimmed to what was captured). */
  ipTotalLength = 0;
  /**
   * Addresses as 16 bytes; IPv4 is stored IPv4-mapped (::ffff:a.b.c.d) so that one
   * comparison path serves both families.
   */
  readonly src = new Uint8Array(16);
  readonly dst = new Uint8Array(16);
  ttl = 0;
  /** The transport protocol after IPv6 extension headers (6, 17, 1, 58, ...). */
  ipProto = 0;
  ipId = 0;
  /** Fragment offset in bytes; non-zero or moreFragments means this is a fragment. */
  fragmentOffset = 0;
  moreFragments = false;

  /** Offset of the transport header in data, or -1. */
  l4Offset = -1;
  srcPort = 0;
  dstPort = 0;
  tcpSeq = 0;
  tcpAck = 0;
  tcpFlags = 0;
  tcpWindow = 0;
  /** TCP header length in bytes (data offset * 4). */
  tcpHeaderLength = 0;
  /** Window scale and MSS from options, -1 when absent. */
  tcpWindowScale = -1;
  tcpMss = -1;
  /** True when the SYN carries a TCP Fast Open cookie option (kind 34). */
  tcpFastOpen = false;
  tcpSackPermitted = false;
  /** RFC 7323 timestamp option values, -1 when absent. */
  tcpTsVal = -1;
  tcpTsEcr = -1;
  /** Bit set of IPv6 extension headers seen (Ipv6Ext in decode/ipv6.ts). */
  ipv6ExtHeaders = 0;
  icmpType = -1;
  icmpCode = -1;
  icmpId = -1;
  icmpSeq = -1;

  /** Application payload (after the transport header) as an offset/length into data. */
  payloadOffset = 0;
  payloadLength = 0;

  /**
   * Checksum state: 1 valid, 0 invalid, -1 not checked (checksum mode none, or the kernel
   * marked the packet CSUMNOTREADY / GSO).
   */
  ipChecksumValid = -1;
  l4ChecksumValid = -1;
  /** Bit set of DecodeAnomaly values found while decoding. */
  anomalies = 0;

  /** Live-path metadata; all zero offline. */
  queue: QueueMetadata = {
    queuePacketId: 0,
    hwProtocol: 0,
    mark: 0,
    inIfindex: 0,
    outIfindex: 0,
    physInIfindex: 0,
    physOutIfindex: 0,
    skbFlags: 0,
  };

  /** Bytes captured of this frame. */
  get capturedLength(): number {
    return this.dataEnd - this.dataStart;
  }

  get isIp(): boolean {
    return this.ipVersion !== 0;
  }

  get isTcp(): boolean {
    return this.ipProto === IpProto.TCP && this.l4Offset >= 0;
  }

  get isUdp(): boolean {
    return this.ipProto === IpProto.UDP && this.l4Offset >= 0;
  }

  get isIcmp(): boolean {
    return (this.ipProto === IpProto.ICMP || this.ipProto === IpProto.ICMPV6) && this.l4Offset >= 0;
  }

  /** A view (no copy) of the application payload. */
  payload(): Uint8Array {
    return this.data.subarray(this.payloadOffset, this.payloadOffset + this.payloadLength);
  }

  /** Forget everything decoded, so the object can take the next packet. */
  reset(): void {
    this.data = EMPTY;
    this.dataStart = 0;
    this.dataEnd = 0;
    this.linkType = LinkType.ETHERNET;
    this.tsSec = 0;
    this.tsUsec = 0;
    this.wireLength = 0;
    this.pcapIndex = 0;
    this.clearDecoded();
    const q = this.queue;
    q.queuePacketId = q.hwProtocol = q.mark = q.inIfindex = q.outIfindex = 0;
    q.physInIfindex = q.physOutIfindex = q.skbFlags = 0;
  }

  /** Forget the decoded layers only (capture fields and queue metadata stay). */
  clearDecoded(): void {
    this.l2Offset = -1;
    this.etherType = 0;
    this.vlanCount = 0;
    this.vlanId0 = 0;
    this.vlanId1 = 0;
    this.l3Offset = -1;
    this.ipVersion = 0;
    this.ipHeaderLength = 0;
    this.ipTotalLength = 0;
    this.src.fill(0);
    this.dst.fill(0);
    this.ttl = 0;
    this.ipProto = 0;
    this.ipId = 0;
    this.fragmentOffset = 0;
    this.moreFragments = false;
    this.l4Offset = -1;
    this.srcPort = 0;
    this.dstPort = 0;
    this.tcpSeq = 0;
    this.tcpAck = 0;
    this.tcpFlags = 0;
    this.tcpWindow = 0;
    this.tcpHeaderLength = 0;
    this.tcpWindowScale = -1;
    this.tcpMss = -1;
    this.tcpFastOpen = false;
    this.tcpSackPermitted = false;
    this.tcpTsVal = -1;
    this.tcpTsEcr = -1;
    this.ipv6ExtHeaders = 0;
    this.icmpType = -1;
    this.icmpCode = -1;
    this.icmpId = -1;
    this.icmpSeq = -1;
    this.payloadOffset = 0;
    this.payloadLength = 0;
    this.ipChecksumValid = -1;
    this.l4ChecksumValid = -1;
    this.anomalies = 0;
  }
}

const EMPTY = new Uint8Array(0);
