// Chooses each signature's prefilter pattern as Suricata does (detect-engine-mpm.c
// RetrieveFPForSig): an explicit fast_pattern wins; otherwise, among the lists holding a
// non-negated content, those with the best (lowest) priority number, and in them the
// longest content (the first one on a tie). The choice only affects speed: every candidate
// is fully evaluated. The prefilter scans untransformed buffers case-insensitively, so a
// content of a to_lowercase / to_uppercase / dotprefix buffer can still serve (dotprefix:
// without its leading dot, which the transform adds); other transforms cannot. Contents of transformed buffers are not used (the prefilter scans
// untransformed buffers); a rule without a usable content has no fast pattern and is
// evaluated on every packet of its group.

import { bufferPriority } from './buffers';
import type { FastPattern, Signature } from './signature';
import { ContentMatch } from './keywords/content';

const PREFILTER_SAFE = new Set(['to_lowercase', 'to_uppercase', 'dotprefix']);

export function selectFastPattern(sig: Signature): FastPattern | null {
  let best: { m: ContentMatch; bufferId: number; dot: boolean } | null = null;
  for (const l of sig.buffers) {
    if (!l.transforms.every((t) => PREFILTER_SAFE.has(t.name))) continue;
    const dot = l.transforms.some((t) => t.name === 'dotprefix');
    for (const m of l.items) {
      if (!(m instanceof ContentMatch) || m.negated) continue;
      if (dot && m.pattern.length < 2) continue;
      if (m.fastPattern) { best = { m, bufferId: l.bufferId, dot }; break; }
      if (!best) { best = { m, bufferId: l.bufferId, dot }; continue; }
      if (best.m.fastPattern) continue;
      const pb = bufferPriority(best.bufferId), pl = bufferPriority(l.bufferId);
      if (pl < pb || (pl === pb && m.pattern.length > best.m.pattern.length)) best = { m, bufferId: l.bufferId, dot };
    }
    if (best?.m.fastPattern) break;
  }
  if (!best) return null;
  const m = best.m;
  let bytes = m.fpLength > 0 ? m.pattern.subarray(m.fpOffset, m.fpOffset + m.fpLength) : m.pattern;
  if (best.dot && bytes[0] === 0x2e) bytes = bytes.subarray(1);
  if (bytes.length === 0) return null;
  return { bufferId: best.bufferId, bytes, nocase: m.nocase };
}
