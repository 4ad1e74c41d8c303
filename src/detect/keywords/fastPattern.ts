// fast_pattern: pick this content for the prefilter (Suricata detect-fast-pattern.c), with
// `fast_pattern:only` (Suricata 7 treats it as plain fast_pattern) and
// `fast_pattern:offset,length` (only that slice goes to the prefilter).

import { lastContentMatch } from './content';
import type { KeywordDef } from './registry';

export const fastPatternKeyword: KeywordDef = {
  name: 'fast_pattern',
  setup(b, v) {
    const c = lastContentMatch(b, 'fast_pattern');
    if (c.negated && v !== null) throw b.error('fast_pattern with options on a negated content');
    c.fastPattern = true;
    if (v === null) return;
    const s = v.trim();
    if (s === 'only') { c.fastPatternOnly = true; return; }
    const m = /^(\d+)\s*,\s*(\d+)$/.exec(s);
    if (!m) throw b.error(`bad fast_pattern value "${s}"`);
    const off = Number(m[1]), len = Number(m[2]);
    if (len === 0 || off + len > c.pattern.length) throw b.error(`fast_pattern:${off},${len} is outside the content`);
    c.fpOffset = off; c.fpLength = len;
  },
};
