// The keyword table: every rule option Lateral understands, one module each, registered in
// one place (Suricata's sigmatch_table in detect-engine-register.c). Adding a keyword means
// one new file in this folder and one line below. A keyword not in this table makes the
// rule skipped with "unsupported keyword: X".

import type { RuleBuilder } from '../ruleBuilder';
import { contentKeyword } from './content';
import { contentModifierKeywords } from './contentModifiers';
import { fastPatternKeyword } from './fastPattern';
import { metaKeywords } from './meta';
import { pcreKeyword } from './pcre';
import { isdataatKeyword } from './isdataat';
import { dsizeKeyword } from './dsize';
import { bsizeKeyword } from './bsize';
import { byteTestKeyword } from './byteTest';
import { byteJumpKeyword } from './byteJump';
import { byteExtractKeyword } from './byteExtract';
import { flowKeyword } from './flow';
import { flowbitsKeyword } from './flowbits';
import { thresholdKeyword, detectionFilterKeyword } from './threshold';
import { flagsKeyword, tcpFlagsKeyword } from './flags';
import { ttlKeyword } from './ttl';
import { ipProtoKeyword } from './ipProto';
import { icmpKeywords } from './icmp';
import { appLayerProtocolKeyword } from './appLayerProtocol';
import { stickyBufferKeywords, legacyModifierKeywords } from './stickyBuffers';
import { transformKeywords } from './transforms';
import { tlsVersionKeyword } from './tlsVersion';
import { urilenKeyword } from './urilen';
import { http2Keywords } from './http2Keywords';
import { streamSizeKeyword } from './streamSize';
import { xbitsKeyword } from './xbits';

export interface KeywordDef {
  name: string;
  /** Parses the value (null when the option has none) into the rule under construction. */
  setup(b: RuleBuilder, value: string | null): void;
}

const ALL: KeywordDef[] = [
  contentKeyword,
  ...contentModifierKeywords,
  fastPatternKeyword,
  ...metaKeywords,
  pcreKeyword,
  isdataatKeyword,
  dsizeKeyword,
  bsizeKeyword,
  byteTestKeyword,
  byteJumpKeyword,
  byteExtractKeyword,
  flowKeyword,
  flowbitsKeyword,
  thresholdKeyword,
  detectionFilterKeyword,
  flagsKeyword,
  tcpFlagsKeyword,
  ttlKeyword,
  ipProtoKeyword,
  ...icmpKeywords,
  appLayerProtocolKeyword,
  ...stickyBufferKeywords,
  ...legacyModifierKeywords,
  ...transformKeywords,
  tlsVersionKeyword,
  urilenKeyword,
  ...http2Keywords,
  streamSizeKeyword,
  xbitsKeyword,
];

export const KEYWORDS: ReadonlyMap<string, KeywordDef> = new Map(ALL.map((k) => [k.name, k]));
