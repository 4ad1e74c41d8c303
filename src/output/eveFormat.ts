// Field formatting shared by every EVE record, following what Suricata 7 prints so that
// pipelines built for Suricata's eve.json (Elastic's suricata module, Loki, Splunk TA) parse
// Lateral's records unchanged.

/**
 * Suricata's timestamp: `2021-12-10T15:20:30.123456+0000` (strftime `%Y-%m-%dT%H:%M:%S` then
 * `.%06u%z`). Suricata prints local time; Lateral always prints UTC so that hosts in different
 * zones agree, and says so with `+0000`.
 */
export function formatEveTimestamp(tsSec: number, tsUsec: number): string {
  const d = new Date(tsSec * 1000);
  return (
    `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}` +
    `T${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}` +
    `.${String(Math.trunc(tsUsec)).padStart(6, '0')}+0000`
  );
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

const HEX = '0123456789abcdef';

/**
 * An address as Suricata prints it. IPv4 (4 bytes, or 16 bytes IPv4-mapped as in
 * Packet.src/dst when ipVersion is 4) is dotted quad. IPv6 is printed fully expanded, eight
 * groups of four hex digits without `::` compression (Suricata's PrintInetIPv6:
 * "Format IPv6 without deleting zeroes"), e.g. `fe80:0000:0000:0000:0202:b3ff:fe1e:8329`.
 */
export function formatEveIp(addr: Uint8Array, ipVersion: number): string {
  if (addr.length === 4) return `${addr[0]}.${addr[1]}.${addr[2]}.${addr[3]}`;
  if (ipVersion === 4) return `${addr[12]}.${addr[13]}.${addr[14]}.${addr[15]}`;
  let s = '';
  for (let i = 0; i < 16; i += 2) {
    if (i > 0) s += ':';
    const hi = addr[i] ?? 0;
    const lo = addr[i + 1] ?? 0;
    s += HEX[hi >> 4]! + HEX[hi & 15]! + HEX[lo >> 4]! + HEX[lo & 15]!;
  }
  return s;
}

/** IANA protocol numbers to the names Suricata prints in `proto` (its known_proto table). */
const PROTO_NAMES: Record<number, string> = {
  1: 'ICMP',
  2: 'IGMP',
  4: 'IPIP',
  6: 'TCP',
  17: 'UDP',
  41: 'IPv6',
  47: 'GRE',
  50: 'ESP',
  51: 'AH',
  58: 'IPv6-ICMP',
  132: 'SCTP',
};

/** Suricata prints the protocol name when it knows one, else the number as a string. */
export function eveProtoName(ipProto: number): string {
  return PROTO_NAMES[ipProto] ?? String(ipProto);
}

const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/**
 * Bytes from the wire as a JSON-safe string. Valid UTF-8 is kept; otherwise each printable
 * ASCII byte is kept and every other byte becomes `\xHH`, which is what Suricata's
 * string_from_bytes does, so that a hostile header cannot break the JSON line.
 */
export function eveString(value: Uint8Array | string): string {
  if (typeof value === 'string') return value;
  try {
    return utf8Strict.decode(value);
  } catch {
    let s = '';
    for (let i = 0; i < value.length; i++) {
      const b = value[i]!;
      s += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${HEX[b >> 4]!.toUpperCase()}${HEX[b & 15]!.toUpperCase()}`;
    }
    return s;
  }
}
