// Crafts one DNS query per ET Open dns.query rule from the rule's own contents (dotprefix /
// endswith domain rules become a name under that domain), as a UDP packet to port 53, and
// the dns.query buffer a DNS parser hands the engine (the dotted name). Used by
// makeDnsGolden.ts (real Suricata) and dnsGolden.test.ts (our engine).

import { BufferId } from '../../../src/detect/buffers';
import { ContentMatch } from '../../../src/detect/keywords/content';
import type { Signature } from '../../../src/detect/signature';

export interface DnsCase {
  name: string;
  packet: Buffer;
}

export function craftDns(s: Signature, id: number): DnsCase | null {
  if (s.alproto !== 'dns' || s.flowDirection === 2) return null;
  if (s.buffers.length === 0) return null;
  let name = '';
  for (const l of s.buffers) {
    if (l.bufferId !== BufferId.DNS_QUERY || l.transforms.some((t) => t.name !== 'dotprefix')) return null;
    for (const m of l.items) {
      if (!(m instanceof ContentMatch) || m.negated) continue;
      name += Buffer.from(m.nocase ? m.lower : m.pattern).toString('latin1');
    }
  }
  if (name.startsWith('.')) name = 'www' + name;
  if (!/^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/i.test(name) || name.split('.').some((x) => x.length > 63) || name.length > 200) return null;
  const labels = name.split('.');
  const q = Buffer.alloc(12 + name.length + 2 + 4);
  q.writeUInt16BE(id & 0xffff, 0); q.writeUInt16BE(0x0100, 2); q.writeUInt16BE(1, 4);
  let o = 12;
  for (const lab of labels) { q[o++] = lab.length; q.write(lab, o, 'latin1'); o += lab.length; }
  q[o++] = 0;
  q.writeUInt16BE(1, o); q.writeUInt16BE(1, o + 2);
  return { name, packet: q };
}
