// Chooses each signature's prefilter pattern as Suricata does (detect-engine-mpm.c
// RetrieveFPForSig): an explicit fast_pattern wins; otherwise, among the lists holding a
// non-negated content, those with the best (lowest) priority number, and in them the
// longest content (the first one on a tie). The choice only affects speed: every candidate
// is fully evaluated. Contents of transformed buffers are not used (the prefilter scans
// untransformed buffers); a rule without a usable content has no fast pattern and is
// evaluated on every packet of its group.

import { bufferPriority } from './buffers';
import type { FastPattern, Signature } from './signature';
import { ContentMatch } from './keywords/content';

export function selectFastPattern(sig: Signature): FastPattern | null {
  let best: { m: ContentMatch; bufferId: number } | null = null;
  for (const l of sig.buffers) {
    if (l.transforms.length > 0) continue;
    for (const m of l.items) {
      if (!(m instanceof ContentMatch) || m.negated) continue;
      if (m.fastPattern) { best = { m, bufferId: l.bufferId }; break; }
      if (!best) { best = { m, bufferId: l.bufferId }; continue; }
      if (best.m.fastPattern) continue;
      const pb = bufferPriority(best.bufferId), pl = bufferPriority(l.bufferId);
      if (pl < pb || (pl === pb && m.pattern.length > best.m.pattern.length)) best = { m, bufferId: l.bufferId };
    }
    if (best?.m.fastPattern) break;
  }
  if (!best) return null;
  const m = best.m;
  const bytes = m.fpLength > 0 ? m.pattern.subarray(m.fpOffset, m.fpOffset + m.fpLength) : m.pattern;
  return { bufferId: best.bufferId, bytes, nocase: m.nocase };
}
