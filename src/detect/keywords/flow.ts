// flow: direction and state of the packet's flow (Suricata detect-flow.c):
// to_server|from_client, to_client|from_server, established, not_established, stateless,
// only_stream, no_stream. Without a flow only `stateless` (alone) matches.

import { FlowState, type DetectContext } from '../detectContext';
import type { PacketMatch } from '../signature';
import { SkipRule } from '../ruleBuilder';
import type { KeywordDef } from './registry';

export class FlowMatch implements PacketMatch {
  constructor(readonly dir: 0 | 1 | 2, readonly state: 0 | 1 | 2) {}
  match(ctx: DetectContext): boolean {
    if (ctx.flowState === FlowState.NONE) return false;
    if (this.dir === 1 && !ctx.toServer) return false;
    if (this.dir === 2 && ctx.toServer) return false;
    const est = ctx.flowState === FlowState.ESTABLISHED || ctx.flowState === FlowState.CLOSED;
    if (this.state === 1 && !est) return false;
    if (this.state === 2 && est) return false;
    return true;
  }
}

export const flowKeyword: KeywordDef = {
  name: 'flow',
  setup(b, value) {
    let dir: 0 | 1 | 2 = 0;
    let state: 0 | 1 | 2 = 0;
    let stateless = false;
    for (const raw of (value ?? '').split(',')) {
      const o = raw.trim().toLowerCase();
      switch (o) {
        case 'to_server': case 'from_client':
          if (dir === 2) throw b.error('flow: conflicting directions');
          dir = 1; break;
        case 'to_client': case 'from_server':
          if (dir === 1) throw b.error('flow: conflicting directions');
          dir = 2; break;
        case 'established': if (state === 2) throw b.error('flow: established and not_established'); state = 1; break;
        case 'not_established': if (state === 1) throw b.error('flow: established and not_established'); state = 2; break;
        case 'stateless': stateless = true; break;
        case 'only_stream': if (b.sig.noStream) throw b.error('flow: only_stream with no_stream'); b.sig.onlyStream = true; break;
        case 'no_stream': if (b.sig.onlyStream) throw b.error('flow: no_stream with only_stream'); b.sig.noStream = true; break;
        case 'only_frag': case 'no_frag': throw new SkipRule(`flow:${o} needs fragment state`);
        default: throw b.error(`flow: unknown option "${o}"`);
      }
    }
    b.sig.flowDirection = dir;
    // stateless alone: no flow condition at all (matches packets without a flow too).
    if (dir !== 0 || state !== 0 || !stateless) {
      if (dir !== 0 || state !== 0) b.sig.packetMatches.push(new FlowMatch(dir, state));
    }
  },
};
