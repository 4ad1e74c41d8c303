// Malformed input never throws: corpus packets with bytes flipped and cut at random
// (deterministic seed) through decode → flow → stream, every link type and checksum mode.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { corpusPath } from '../support/corpus';
import { openPcap } from '../../src/capture/pcapOpen';
import { decodePacket } from '../../src/decode/decodePacket';
import { DecodeContext } from '../../src/decode/decodeStats';
import { Packet } from '../../src/decode/packet';
import { FlowTable } from '../../src/flow/flowTable';
import { StreamTracker } from '../../src/stream/streamTracker';

const files = [
  'pcaps/log4shell-cve-2021-44228.pcap', // SLL
  'pcaps/redis-auth.pcap', // null/loopback
  'pcaps/mongodb-pymongo.pcap', // VLAN
  'pcaps/dvwa-sqli.pcapng',
  'suricata-verify/tests/bug-5758/input.pcap', // raw IP
  'suricata-verify/tests/detect-pcre/detect-pcre-04/input.pcap', // IPv6
  'suricata-verify/tests/tcp-fastopen-07/tcp_fastopen_segmentation.pcap',
];

function rng(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

test('mutated packets are counted or decoded, never thrown', () => {
  const rand = rng(0x1a7e7a1);
  const p = new Packet();
  let decoded = 0;
  for (const mode of ['none', 'all'] as const) {
    const ctx = new DecodeContext(mode);
    const tracker = new StreamTracker({ midstream: true });
    const table = new FlowTable({ maxFlows: 256, onFlowEnd: (f) => tracker.release(f) });
    for (const rel of files) {
      const r = openPcap(corpusPath(rel));
      for (const rec of r) {
        const original = Uint8Array.from(rec.data);
        for (let round = 0; round < 20; round++) {
          const bytes = Uint8Array.from(original);
          const flips = 1 + Math.floor(rand() * 6);
          for (let i = 0; i < flips; i++) bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
          const cut = rand() < 0.3 ? Math.floor(rand() * bytes.length) : bytes.length;
          const data = bytes.subarray(0, cut);
          decodePacket(p, data, rec.linkType, ctx);
          p.tsSec = rec.tsSec;
          const l = table.lookup(p);
          if (l !== null && p.isTcp) tracker.handle(p, l.flow, l.toServer);
          decoded++;
        }
      }
      r.close();
      table.expire(Number.MAX_SAFE_INTEGER);
    }
    assert.is(ctx.stats.packets, decoded / (mode === 'none' ? 1 : 2));
    assert.ok(ctx.stats.anomalous > 0);
    assert.is(table.size, 0);
    assert.is(tracker.memory.used, 0, 'all stream memory returned');
  }
});

test.run();
