// Sticky buffers (`http.uri; content:..`) and the legacy content modifiers
// (`content:..; http_uri;`), generated from the buffer table in ../buffers.ts so that both
// spellings produce the same BufferList. A buffer implies its app-layer protocol, as in
// Suricata (a `tcp` rule with http.uri becomes an HTTP rule). `pkt_data` returns to the
// payload.

import { BUFFERS, BufferId, type BufferInfo } from '../buffers';
import { SkipRule, type RuleBuilder } from '../ruleBuilder';
import { ContentMatch, setupContent } from './content';
import { PcreMatch } from './pcre';
import type { KeywordDef } from './registry';

export function requireAlproto(b: RuleBuilder, info: BufferInfo): void {
  if (!info.alproto) return;
  const cur = b.sig.alproto;
  if (cur === '') b.sig.alproto = info.alproto;
  // http.* buffers serve HTTP/1 and HTTP/2 (Suricata 7 registers both); an http2.* keyword
  // narrows a generic `http` rule to HTTP/2.
  else if (info.alproto === 'http' && (cur === 'http1' || cur === 'http2')) return;
  else if (info.alproto === 'http2' && cur === 'http') b.sig.alproto = 'http2';
  else if (cur !== info.alproto) throw b.error(`${info.name} is an ${info.alproto} buffer but the rule is for ${cur}`);
  if (b.sig.ipProtos.length > 0 && !b.sig.ipProtos.includes(6) && info.alproto !== 'dns') {
    throw b.error(`${info.name} needs TCP but the rule protocol excludes it`);
  }
}

function sticky(info: BufferInfo, name: string): KeywordDef {
  return {
    name,
    setup(b, value) {
      if (value !== null) throw b.error(`${name} takes no value`);
      requireAlproto(b, info);
      if (b.current && b.current.items.length === 0) throw b.error('previous sticky buffer has no matches');
      b.current = b.list(info.id);
    },
  };
}

function legacy(info: BufferInfo, name: string): KeywordDef {
  return {
    name,
    setup(b, value) {
      if (value !== null) throw b.error(`${name} takes no value`);
      const last = b.requireLastContent(name);
      if (!(last.match instanceof ContentMatch)) throw b.error(`${name} needs a preceding content`);
      if (last.list.bufferId !== BufferId.PAYLOAD || b.current !== null) {
        throw b.error(`${name} cannot follow a content in a sticky buffer`);
      }
      requireAlproto(b, info);
      const idx = last.list.items.lastIndexOf(last.match);
      last.list.items.splice(idx, 1);
      const target = b.list(info.id);
      // A relative content moved into a buffer with nothing before it: Suricata 7 loads
      // it, but what it is relative to is not documented — skip rather than guess.
      if (last.match.relative && !target.items.some((m) => m instanceof ContentMatch || m instanceof PcreMatch)) {
        throw new SkipRule(`${name} on a relative content with no earlier match in that buffer`);
      }
      target.items.push(last.match);
      b.lastContent = { match: last.match, list: target };
      if (b.lastMatch?.match === last.match) b.lastMatch = b.lastContent;
    },
  };
}

export const stickyBufferKeywords: KeywordDef[] = [
  ...BUFFERS.filter((i) => i.id !== BufferId.PAYLOAD).flatMap((i) => [i.name, ...i.aliases].map((n) => sticky(i, n))),
  {
    name: 'pkt_data',
    setup(b) {
      if (b.current && b.current.items.length === 0) throw b.error('previous sticky buffer has no matches');
      b.current = null;
    },
  },
];

export const legacyModifierKeywords: KeywordDef[] = [
  ...BUFFERS.filter((i) => i.legacy !== null).map((i) => legacy(i, i.legacy!)),
  {
    // uricontent:"x" is content:"x"; http_uri; (Snort heritage, still in Suricata 7)
    name: 'uricontent',
    setup(b, value) {
      const info = BUFFERS.find((i) => i.id === BufferId.HTTP_URI)!;
      requireAlproto(b, info);
      setupContent(b, value, BufferId.HTTP_URI);
    },
  },
];
