// Crafts one TLS ClientHello per ET Open tls.sni rule with the SNI built from the rule's
// own contents, and the tls.sni buffer a TLS parser hands the engine. Used by
// makeTlsGolden.ts (real Suricata) and tlsGolden.test.ts (our engine).

import { BufferId } from '../../../src/detect/buffers';
import { ContentMatch } from '../../../src/detect/keywords/content';
import type { Signature } from '../../../src/detect/signature';

export interface TlsCase {
  sni: string;
  hello: Buffer;
}

export function clientHello(sni: string): Buffer {
  const name = Buffer.from(sni, 'latin1');
  const sniExt = Buffer.alloc(9 + name.length);
  sniExt.writeUInt16BE(0, 0); sniExt.writeUInt16BE(5 + name.length, 2); sniExt.writeUInt16BE(3 + name.length, 4);
  sniExt[6] = 0; sniExt.writeUInt16BE(name.length, 7); name.copy(sniExt, 9);
  const body = Buffer.concat([
    Buffer.from([0x03, 0x03]), Buffer.alloc(32, 0x11), Buffer.from([0x00]),
    Buffer.from([0x00, 0x04, 0x00, 0x2f, 0x00, 0xff]), Buffer.from([0x01, 0x00]),
    Buffer.from([(sniExt.length >> 8) & 0xff, sniExt.length & 0xff]), sniExt,
  ]);
  const hs = Buffer.concat([Buffer.from([0x01, 0, (body.length >> 8) & 0xff, body.length & 0xff]), body]);
  return Buffer.concat([Buffer.from([0x16, 0x03, 0x01, (hs.length >> 8) & 0xff, hs.length & 0xff]), hs]);
}

export function craftTls(s: Signature): TlsCase | null {
  if (s.alproto !== 'tls' || s.flowDirection === 2 || s.buffers.length === 0) return null;
  let sni = '';
  for (const l of s.buffers) {
    if (l.bufferId !== BufferId.TLS_SNI || l.transforms.some((t) => t.name !== 'dotprefix')) return null;
    for (const m of l.items) {
      if (!(m instanceof ContentMatch) || m.negated) continue;
      sni += Buffer.from(m.nocase ? m.lower : m.pattern).toString('latin1');
    }
  }
  if (sni.startsWith('.')) sni = 'www' + sni;
  if (!/^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/i.test(sni) || sni.length > 200) return null;
  return { sni, hello: clientHello(sni) };
}
