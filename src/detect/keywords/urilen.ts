// urilen: length of the HTTP URI (Suricata detect-urilen.c): urilen:[<>]N or N<>M
// [,norm|raw] — normalised URI by default, as Suricata.

import type { DetectContext } from '../detectContext';
import type { PacketMatch } from '../signature';
import { BufferId, BUFFERS } from '../buffers';
import { parseUintCondition, type UintCondition } from '../ruleBuilder';
import { requireAlproto } from './stickyBuffers';
import type { KeywordDef } from './registry';

export class UrilenMatch implements PacketMatch {
  constructor(readonly cond: UintCondition, readonly raw: boolean) {}
  match(ctx: DetectContext): boolean {
    const u = ctx.getBuffer(this.raw ? BufferId.HTTP_URI_RAW : BufferId.HTTP_URI, 0);
    return u !== null && this.cond.test(u.length);
  }
}

export const urilenKeyword: KeywordDef = {
  name: 'urilen',
  setup(b, value) {
    const [v, mode] = (value ?? '').split(',').map((x) => x.trim());
    if (mode && mode !== 'norm' && mode !== 'raw') throw b.error(`urilen: bad option "${mode}"`);
    requireAlproto(b, BUFFERS.find((i) => i.id === BufferId.HTTP_URI)!);
    b.sig.packetMatches.push(new UrilenMatch(parseUintCondition(v ?? '', b, 'urilen', 65535), mode === 'raw'));
    b.sig.appTx = true;
  },
};
