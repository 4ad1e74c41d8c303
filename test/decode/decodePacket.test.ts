// decodePacket over the whole corpus, against counts from tcpdump filters and tshark (stored in
// test/stream/tsharkFollow.json by test/stream/tsharkFollow.py), and its checksum modes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { corpusPath, repoRoot } from '../support/corpus';
import { openPcap } from '../../src/capture/pcapOpen';
import { decodePacket } from '../../src/decode/decodePacket';
import { DecodeAnomaly, DecodeContext, ChecksumMode } from '../../src/decode/decodeStats';
import { IpProto, LinkType, Packet } from '../../src/decode/packet';
import { ethernet, ip4, ipv4, tcpSegment } from './craft';

interface Expected {
  packets: number;
  tcp: number;
  udp: number;
  icmp: number;
  ip: number;
  ip6: number;
}
const expected = JSON.parse(fs.readFileSync(path.join(repoRoot, 'test/stream/tsharkFollow.json'), 'utf8')) as Record<string, Expected>;

function decodeFile(rel: string, mode: ChecksumMode): DecodeContext {
  const ctx = new DecodeContext(mode);
  const p = new Packet();
  const reader = openPcap(corpusPath(rel));
  try {
    for (const rec of reader) decodePacket(p, rec.data, rec.linkType, ctx);
  } finally {
    reader.close();
  }
  return ctx;
}

// tcpdump filters see the outer headers only; decode/gre.ts also decodes the packets inside
// GRE/ERSPAN, and each inner layer is counted too (as Suricata's decoder counters do). Inner
// counts from tshark: `tshark -r <pcap> -Y 'erspan && tcp' | wc -l`.
const innerOfTunnels: Record<string, { ip: number; tcp: number }> = {
  'pcaps/mirai-jaws-mvpower-gre.pcap': { ip: 60, tcp: 60 },
};

test('per-protocol packet counts equal tcpdump filter counts on every corpus pcap', () => {
  const files = Object.keys(expected);
  assert.ok(files.length >= 40, `only ${files.length} reference files`);
  for (const rel of files) {
    const e = expected[rel]!;
    const s = decodeFile(rel, 'none').stats;
    const inner = innerOfTunnels[rel] ?? { ip: 0, tcp: 0 };
    assert.is(s.packets, e.packets, `${rel} packets`);
    assert.is(s.ipv4, e.ip + inner.ip, `${rel} ipv4`);
    assert.is(s.ipv6, e.ip6, `${rel} ipv6`);
    assert.is(s.tcp, e.tcp + inner.tcp, `${rel} tcp`);
    assert.is(s.udp, e.udp, `${rel} udp`);
    assert.is(s.icmpv4, e.icmp, `${rel} icmp`);
  }
});

// Bad checksums as tcpdump -vv reports them ("bad cksum" for IPv4, "incorrect" for TCP/UDP).
// The GRE pcap: tcpdump does not open ERSPAN; tshark (ip/tcp.check_checksum) finds the 60 inner
// IPv4 and 60 inner TCP checksums bad too, which the decoder now sees.
const badChecksums: Array<[string, number, number]> = [
  ['pcaps/mirai-jaws-mvpower-gre.pcap', 120, 60],
  ['pcaps/mongodb-pymongo.pcap', 27, 27],
  ['pcaps/docker-api-create-attach.pcap', 0, 200],
  ['pcaps/dvwa-sqli.pcapng', 0, 27],
  ['pcaps/ssh-password-guessing.pcap', 0, 177],
  ['pcaps/selenium-grid-rce.pcap', 12, 12],
  ['suricata-verify/tests/bug-4199-2/input.pcap', 4, 4],
  ['pcaps/heartbleed-success.pcap', 0, 15],
  ['pcaps/ftp-bruteforce.pcap', 0, 0],
];

test('checksum mode all finds exactly the checksums tcpdump -vv calls bad', () => {
  for (const [rel, ip, l4] of badChecksums) {
    const s = decodeFile(rel, 'all').stats;
    assert.is(s.ipv4BadChecksum, ip, `${rel} ipv4`);
    assert.is(s.tcpBadChecksum + s.udpBadChecksum, l4, `${rel} l4`);
  }
});

test('checksum mode none checks nothing', () => {
  const ctx = decodeFile('pcaps/docker-api-create-attach.pcap', 'none');
  assert.is(ctx.stats.tcpBadChecksum, 0);
  assert.is(ctx.stats.anomalous, 0);
});

function craftedTcp(bad: boolean): Uint8Array {
  const seg = tcpSegment(ip4('10.0.0.1'), ip4('10.0.0.2'), { flags: 0x18, payload: 'x', badChecksum: bad });
  return Uint8Array.from(ethernet(0x0800, ipv4('10.0.0.1', '10.0.0.2', { proto: IpProto.TCP }, seg)));
}

test('checksum mode auto stops validating when >10% of the first 1000 packets are bad (Suricata)', () => {
  const good = craftedTcp(false);
  const bad = craftedTcp(true);
  const p = new Packet();
  const offload = new DecodeContext('auto');
  for (let i = 0; i < 1000; i++) decodePacket(p, i % 5 === 0 ? bad : good, LinkType.ETHERNET, offload);
  assert.ok(offload.autoDisabled, '20% bad must disable validation');
  decodePacket(p, bad, LinkType.ETHERNET, offload);
  assert.is(p.l4ChecksumValid, -1);
  assert.is(p.anomalies & DecodeAnomaly.TCP_BAD_CHECKSUM, 0);

  const healthy = new DecodeContext('auto');
  for (let i = 0; i < 1000; i++) decodePacket(p, i % 20 === 0 ? bad : good, LinkType.ETHERNET, healthy);
  assert.not.ok(healthy.autoDisabled, '5% bad keeps validation on');
  decodePacket(p, bad, LinkType.ETHERNET, healthy);
  assert.is(p.l4ChecksumValid, 0);
  assert.ok(p.anomalies & DecodeAnomaly.TCP_BAD_CHECKSUM);
});

test('verifyChecksums = false skips validation for one packet (kernel CSUMNOTREADY)', () => {
  const ctx = new DecodeContext('all');
  const p = new Packet();
  decodePacket(p, craftedTcp(true), LinkType.ETHERNET, ctx, false);
  assert.is(p.l4ChecksumValid, -1);
  assert.is(p.ipChecksumValid, -1);
  decodePacket(p, craftedTcp(true), LinkType.ETHERNET, ctx);
  assert.is(p.l4ChecksumValid, 0);
  assert.is(ctx.stats.tcpBadChecksum, 1);
});

test('an unknown link type is counted, not thrown', () => {
  const ctx = new DecodeContext('all');
  const p = new Packet();
  assert.is(decodePacket(p, new Uint8Array(40), 147, ctx), false);
  assert.is(ctx.stats.unknownLinkType, 1);
  assert.ok(p.anomalies & DecodeAnomaly.UNKNOWN_LINK_TYPE);
});

test('decoding reuses the packet: fields of a previous packet do not leak', () => {
  const ctx = new DecodeContext('all');
  const p = new Packet();
  decodePacket(p, craftedTcp(false), LinkType.ETHERNET, ctx);
  assert.is(p.ipProto, IpProto.TCP);
  decodePacket(p, new Uint8Array(10), LinkType.ETHERNET, ctx);
  assert.is(p.ipVersion, 0);
  assert.is(p.l4Offset, -1);
  assert.is(p.srcPort, 0);
  assert.ok(p.anomalies & DecodeAnomaly.LINK_TRUNCATED);
});

test.run();
