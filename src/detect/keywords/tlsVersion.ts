// tls.version: the TLS version of the flow's handshake (Suricata detect-tls-version.c):
// tls.version:1.0|1.1|1.2|1.3|0x0303. Read from BufferId.TLS_VERSION (2 bytes, big-endian).

import type { DetectContext } from '../detectContext';
import type { PacketMatch } from '../signature';
import { BufferId } from '../buffers';
import { unquote } from '../ruleBuilder';
import { requireAlproto } from './stickyBuffers';
import { BUFFERS } from '../buffers';
import type { KeywordDef } from './registry';

const VERSIONS: Record<string, number> = { '1.0': 0x0301, '1.1': 0x0302, '1.2': 0x0303, '1.3': 0x0304 };

export class TlsVersionMatch implements PacketMatch {
  constructor(readonly version: number) {}
  match(ctx: DetectContext): boolean {
    if (ctx.appProto !== 'tls') return false;
    const v = ctx.getBuffer(BufferId.TLS_VERSION, 0);
    return v !== null && v.length >= 2 && ((v[0]! << 8) | v[1]!) === this.version;
  }
}

export const tlsVersionKeyword: KeywordDef = {
  name: 'tls.version',
  setup(b, value) {
    const s = unquote(value ?? '').trim();
    const v = VERSIONS[s] ?? (/^0x[0-9a-f]{1,4}$/i.test(s) ? parseInt(s, 16) : undefined);
    if (v === undefined) throw b.error(`tls.version: bad version "${s}"`);
    requireAlproto(b, { ...BUFFERS[0]!, name: 'tls.version', alproto: 'tls' });
    b.sig.packetMatches.push(new TlsVersionMatch(v));
    b.sig.appTx = true;
  },
};
