// Metadata keywords: msg, sid, rev, gid, classtype, priority, reference, metadata, target,
// noalert (Suricata detect-msg.c, detect-sid.c, ...). They describe the alert and do not
// match anything, so they share one file.

import { unquote, parseIntStrict, type RuleBuilder } from '../ruleBuilder';
import type { KeywordDef } from './registry';

function unescapeMsg(s: string): string {
  return s.replace(/\\([";\\:,])/g, '$1');
}

/** Keywords Suricata refuses to see twice in one rule. */
function once(b: RuleBuilder, kw: string): void {
  if (b.seen.has(kw)) throw b.error(`duplicated ${kw} keyword`);
  b.seen.add(kw);
}

export const metaKeywords: KeywordDef[] = [
  {
    name: 'msg',
    setup(b, v) {
      // Suricata: the value must be double quoted, start to end.
      const s = (v ?? '').trim();
      if (s.length < 2 || !s.startsWith('"') || !s.endsWith('"')) throw b.error('msg must be double quoted (missing quote or ";"?)');
      once(b, 'msg');
      b.sig.msg = unescapeMsg(s.slice(1, -1));
    },
  },
  {
    name: 'sid',
    setup(b, v) {
      once(b, 'sid');
      const n = parseIntStrict(unquote(v ?? ''), b, 'sid');
      if (n <= 0 || n > 0xffffffff) throw b.error(`sid ${n} out of range`);
      b.sig.sid = n;
    },
  },
  {
    name: 'rev',
    setup(b, v) {
      once(b, 'rev');
      b.sig.rev = parseIntStrict(unquote(v ?? ''), b, 'rev');
    },
  },
  {
    name: 'gid',
    setup(b, v) {
      once(b, 'gid');
      b.sig.gid = parseIntStrict(unquote(v ?? ''), b, 'gid');
    },
  },
  {
    // Unknown classtypes load with priority 3 and a blank category, and a repeated
    // classtype keeps the highest-priority one — both as Suricata 7 (with a warning).
    name: 'classtype',
    setup(b, v) {
      const name = unquote(v ?? '').trim();
      if (!/^[A-Za-z0-9_-]+$/.test(name)) throw b.error(`bad classtype "${name}"`);
      const c = b.config.classifications.get(name);
      const prio = c ? c.priority : 3;
      if (b.classtypeName !== '' && b.classtypePriority <= prio) return;
      b.classtypeName = name;
      b.classtypePriority = prio;
      b.sig.classtype = name;
      b.sig.category = c ? c.description : '';
      if (!b.priorityExplicit) b.sig.priority = prio;
    },
  },
  {
    name: 'priority',
    setup(b, v) {
      const n = parseIntStrict(unquote(v ?? ''), b, 'priority');
      if (n < 1 || n > 255) throw b.error(`priority ${n} out of range 1-255`);
      // Repeated: the highest priority (lowest number) wins, as Suricata.
      if (b.priorityExplicit && b.sig.priority <= n) return;
      b.sig.priority = n;
      b.priorityExplicit = true;
    },
  },
  {
    name: 'reference',
    setup(b, v) {
      const s = unquote(v ?? '').trim();
      if (!/^[A-Za-z0-9_-]+\s*,\s*"?[^\s\][,]/.test(s)) throw b.error(`bad reference "${s}" (expected type,id)`);
      b.sig.references.push(s);
    },
  },
  {
    name: 'metadata',
    setup(b, v) {
      for (const part of (v ?? '').split(',')) if (part.trim()) b.sig.metadata.push(part.trim());
    },
  },
  {
    name: 'target',
    setup(b, v) {
      const t = unquote(v ?? '').trim();
      if (t !== 'src_ip' && t !== 'dest_ip') throw b.error(`target must be src_ip or dest_ip, not "${t}"`);
      b.sig.target = t;
    },
  },
  {
    name: 'noalert',
    setup(b) {
      b.sig.noalert = true;
    },
  },
];
