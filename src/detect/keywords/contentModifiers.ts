// The modifiers of the last content: nocase, offset, depth, distance, within, startswith,
// endswith, rawbytes (Suricata detect-nocase.c, detect-offset.c, detect-depth.c,
// detect-distance.c, detect-within.c, detect-startswith.c, detect-endswith.c). They share a
// file because each is a few lines setting one field of ContentMatch; the checks are
// Suricata's (absolute and relative positions don't mix; depth/within not shorter than the
// pattern).

import { intOrVar, type RuleBuilder } from '../ruleBuilder';
import { lastContentMatch, type ContentMatch } from './content';
import type { KeywordDef } from './registry';

function noRelative(b: RuleBuilder, c: ContentMatch, kw: string): void {
  if (c.hasDistance || c.hasWithin) throw b.error(`${kw} cannot be combined with distance/within on the same content`);
  if (c.startswith) throw b.error(`${kw} cannot be combined with startswith`);
}
function noAbsolute(b: RuleBuilder, c: ContentMatch, kw: string): void {
  if (c.hasOffset || c.hasDepth) throw b.error(`${kw} cannot be combined with offset/depth on the same content`);
  if (c.startswith) throw b.error(`${kw} cannot be combined with startswith`);
}
function needValue(b: RuleBuilder, v: string | null, kw: string): string {
  if (v === null || v.trim() === '') throw b.error(`${kw} needs a value`);
  return v;
}

export const contentModifierKeywords: KeywordDef[] = [
  {
    name: 'nocase',
    setup(b) {
      lastContentMatch(b, 'nocase').nocase = true;
    },
  },
  {
    name: 'rawbytes',
    // Suricata ignores rawbytes (no telnet normalisation on the payload buffer); so do we.
    setup(b) {
      lastContentMatch(b, 'rawbytes');
    },
  },
  {
    name: 'offset',
    setup(b, v) {
      const c = lastContentMatch(b, 'offset');
      noRelative(b, c, 'offset');
      const x = intOrVar(needValue(b, v, 'offset'), b, 'offset');
      if (x.varSlot < 0 && x.value < 0) throw b.error('offset must not be negative');
      c.offset = x.value; c.offsetVar = x.varSlot; c.hasOffset = true;
    },
  },
  {
    name: 'depth',
    setup(b, v) {
      const c = lastContentMatch(b, 'depth');
      noRelative(b, c, 'depth');
      const x = intOrVar(needValue(b, v, 'depth'), b, 'depth');
      if (x.varSlot < 0 && x.value < c.pattern.length) throw b.error(`depth ${x.value} is smaller than the content length ${c.pattern.length}`);
      c.depth = x.value; c.depthVar = x.varSlot; c.hasDepth = true;
    },
  },
  {
    name: 'distance',
    setup(b, v) {
      const c = lastContentMatch(b, 'distance');
      noAbsolute(b, c, 'distance');
      const x = intOrVar(needValue(b, v, 'distance'), b, 'distance');
      c.distance = x.value; c.distanceVar = x.varSlot; c.hasDistance = true; c.relative = true;
    },
  },
  {
    name: 'within',
    setup(b, v) {
      const c = lastContentMatch(b, 'within');
      noAbsolute(b, c, 'within');
      const x = intOrVar(needValue(b, v, 'within'), b, 'within');
      if (x.varSlot < 0 && x.value < c.pattern.length) throw b.error(`within ${x.value} is smaller than the content length ${c.pattern.length}`);
      c.within = x.value; c.withinVar = x.varSlot; c.hasWithin = true; c.relative = true;
    },
  },
  {
    name: 'startswith',
    setup(b) {
      const c = lastContentMatch(b, 'startswith');
      if (c.hasOffset || c.hasDepth || c.hasDistance || c.hasWithin) throw b.error('startswith cannot be combined with offset/depth/distance/within');
      c.startswith = true; c.hasOffset = true; c.offset = 0; c.hasDepth = true; c.depth = c.pattern.length;
    },
  },
  {
    name: 'endswith',
    setup(b) {
      lastContentMatch(b, 'endswith').endswith = true;
    },
  },
];
