// app-layer-protocol: the flow's detected app-layer protocol (Suricata
// detect-app-layer-protocol.c): app-layer-protocol:[!]<name>. Only the protocols our app
// layer detects can be evaluated; others make the rule skipped (a negated unknown
// protocol would otherwise match everything).

import type { DetectContext } from '../detectContext';
import type { PacketMatch } from '../signature';
import { SkipRule } from '../ruleBuilder';
import type { KeywordDef } from './registry';

/**
 * Whether a rule's app-layer protocol (rule header or app-layer-protocol) accepts the flow's
 * (DetectContext.appProto), as Suricata 7's AppProtoEquals: `http` is HTTP/1.x or HTTP/2,
 * `http1` HTTP/1.x only (flows call HTTP/1.x "http").
 */
export function appProtoEquals(ruleProto: string, flowProto: string): boolean {
  if (ruleProto === flowProto) return true;
  if (ruleProto === 'http') return flowProto === 'http2';
  if (ruleProto === 'http1') return flowProto === 'http';
  return false;
}

export class AppLayerProtocolMatch implements PacketMatch {
  constructor(readonly proto: string, readonly negated: boolean) {}
  match(ctx: DetectContext): boolean {
    // Suricata: no match while the protocol is still unknown, either way.
    if (ctx.flowState === 0 || ctx.appProto === '') return false;
    return appProtoEquals(this.proto, ctx.appProto) !== this.negated;
  }
}

export const appLayerProtocolKeyword: KeywordDef = {
  name: 'app-layer-protocol',
  setup(b, value) {
    const [first, mode] = (value ?? '').split(',').map((x) => x.trim());
    let name = first ?? '';
    let negated = false;
    if (name.startsWith('!')) { negated = true; name = name.slice(1).trim(); }
    if (!name) throw b.error('app-layer-protocol needs a protocol');
    if (mode) throw new SkipRule(`app-layer-protocol mode "${mode}"`);
    if (name !== 'failed' && !b.config.appLayerProtocols.has(name)) throw new SkipRule(`unsupported app-layer protocol: ${name}`);
    b.sig.packetMatches.push(new AppLayerProtocolMatch(name, negated));
  },
};
