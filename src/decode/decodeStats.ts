// Counters for everything the decoders see, and the anomaly bits they set on a Packet.
//
// Decoders never throw on bad input: a malformed packet is counted here and flagged in
// packet.anomalies (like Suricata's decoder events, e.g. ipv4.trunc_pkt, tcp.hlen_too_small),
// so that later stages and metrics can see it and nothing is lost silently.

/** Bits of Packet.anomalies. */
export const DecodeAnomaly = {
  LINK_TRUNCATED: 1 << 0,
  UNKNOWN_LINK_TYPE: 1 << 1,
  UNKNOWN_ETHERTYPE: 1 << 2,
  VLAN_TOO_MANY: 1 << 3,
  IPV4_TRUNCATED: 1 << 4,
  IPV4_BAD_HEADER_LENGTH: 1 << 5,
  IPV4_BAD_TOTAL_LENGTH: 1 << 6,
  IPV4_BAD_CHECKSUM: 1 << 7,
  IPV4_BAD_OPTIONS: 1 << 8,
  IPV6_TRUNCATED: 1 << 9,
  IPV6_BAD_EXTENSION: 1 << 10,
  IP_VERSION_MISMATCH: 1 << 11,
  /** An IP fragment: counted, not reassembled (see decode/ipv4.ts). */
  FRAGMENT: 1 << 12,
  TCP_TRUNCATED: 1 << 13,
  TCP_BAD_HEADER_LENGTH: 1 << 14,
  TCP_BAD_OPTIONS: 1 << 15,
  TCP_BAD_CHECKSUM: 1 << 16,
  UDP_TRUNCATED: 1 << 17,
  UDP_BAD_LENGTH: 1 << 18,
  UDP_BAD_CHECKSUM: 1 << 19,
  ICMP_TRUNCATED: 1 << 20,
  ICMP_BAD_CHECKSUM: 1 << 21,
  /** Captured fewer bytes than the IP header says (snaplen): decoded what is there. */
  CAPTURE_TRUNCATED: 1 << 22,
  /** GRE/ERSPAN header too short, bad flags or version, or tunnels nested too deep (decode/gre.ts). */
  GRE_MALFORMED: 1 << 23,
} as const;

/** Bits that mean "a checksum was checked and found wrong". */
export const BAD_CHECKSUM_MASK =
  DecodeAnomaly.IPV4_BAD_CHECKSUM |
  DecodeAnomaly.TCP_BAD_CHECKSUM |
  DecodeAnomaly.UDP_BAD_CHECKSUM |
  DecodeAnomaly.ICMP_BAD_CHECKSUM;

/**
 * Like Suricata's `-k`: none = never validate, all = always, auto = validate; when the
 * 1000th packet is seen, if more than 1 in 10 had a bad TCP checksum (Suricata's
 * ChecksumAutoModeCheck: count / invalid < 10), assume checksum offloading on the capturing
 * host and stop validating from then on. As in Suricata, only a bad TCP checksum has a
 * consequence (the stream engine skips the packet, see stream/streamTracker.ts); IPv4, UDP
 * and ICMP checksum results are recorded for keywords such as ipv4-csum and udpv4-csum.
 */
export type ChecksumMode = 'none' | 'all' | 'auto';

export const CHECKSUM_AUTO_SAMPLE = 1000;
export const CHECKSUM_AUTO_RATIO = 10;

export class DecodeStats {
  packets = 0;
  bytes = 0;
  ethernet = 0;
  vlan = 0;
  sll = 0;
  sll2 = 0;
  nullLoopback = 0;
  rawIp = 0;
  ipv4 = 0;
  ipv6 = 0;
  tcp = 0;
  udp = 0;
  icmpv4 = 0;
  icmpv6 = 0;
  /** IP packets whose transport protocol is not decoded (GRE, SCTP, ...). */
  otherIpProto = 0;
  /** GRE packets seen, inner packets decapsulated (IP, Ethernet, ERSPAN), and GRE we did not open. */
  gre = 0;
  greDecapsulated = 0;
  greMalformed = 0;
  greUnsupported = 0;
  /** Non-IP frames (ARP, LLDP, ...) or unknown EtherTypes. */
  nonIp = 0;
  fragments = 0;
  unknownLinkType = 0;
  truncated = 0;
  invalid = 0;
  ipv4BadChecksum = 0;
  tcpBadChecksum = 0;
  udpBadChecksum = 0;
  icmpBadChecksum = 0;
  /** Packets with any anomaly bit set. */
  anomalous = 0;
}

/**
 * The decoder's per-thread context: stats and the checksum policy. One per capture
 * source (pcap file or NFQUEUE worker), reused for every packet.
 */
export class DecodeContext {
  readonly stats = new DecodeStats();
  /** The mode asked for. */
  readonly mode: ChecksumMode;
  /** Whether checksums are validated right now (auto may switch this off after the sample). */
  validate: boolean;
  /** Auto mode: packets seen / packets with a bad TCP checksum, within the sample. */
  autoChecked = 0;
  autoInvalid = 0;
  /** True once auto mode decided the capture had offloaded checksums. */
  autoDisabled = false;
  /** Tunnel layers being decoded right now (decode/gre.ts bounds the nesting). */
  tunnelDepth = 0;

  constructor(mode: ChecksumMode = 'auto') {
    this.mode = mode;
    this.validate = mode !== 'none';
  }

  /** Called once per decoded packet by decodePacket(); bad = a TCP checksum was wrong. */
  noteChecksum(bad: boolean): void {
    if (this.mode !== 'auto' || this.autoDisabled) return;
    this.autoChecked++;
    if (bad) this.autoInvalid++;
    if (this.autoChecked === CHECKSUM_AUTO_SAMPLE) {
      if (this.autoInvalid !== 0 && Math.floor(this.autoChecked / this.autoInvalid) < CHECKSUM_AUTO_RATIO) {
        this.autoDisabled = true;
        this.validate = false;
      }
    }
  }
}
