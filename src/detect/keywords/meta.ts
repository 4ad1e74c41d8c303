// Metadata keywords: msg, sid, rev, gid, classtype, priority, reference, metadata, target,
// noalert (Suricata detect-msg.c, detect-sid.c, ...). They describe the alert and do not
// match anything, so they share one file.

import { unquote, parseIntStrict } from '../ruleBuilder';
import type { KeywordDef } from './registry';

function unescapeMsg(s: string): string {
  return s.replace(/\\([";\\:,])/g, '$1');
}

export const metaKeywords: KeywordDef[] = [
  {
    name: 'msg',
    setup(b, v) {
      if (v === null) throw b.error('msg needs a value');
      b.sig.msg = unescapeMsg(unquote(v));
    },
  },
  {
    name: 'sid',
    setup(b, v) {
      const n = parseIntStrict(unquote(v ?? ''), b, 'sid');
      if (n <= 0 || n > 0xffffffff) throw b.error(`sid ${n} out of range`);
      b.sig.sid = n;
      b.seen.add('sid');
    },
  },
  {
    name: 'rev',
    setup(b, v) {
      b.sig.rev = parseIntStrict(unquote(v ?? ''), b, 'rev');
    },
  },
  {
    name: 'gid',
    setup(b, v) {
      b.sig.gid = parseIntStrict(unquote(v ?? ''), b, 'gid');
    },
  },
  {
    name: 'classtype',
    setup(b, v) {
      const name = unquote(v ?? '').trim();
      const c = b.config.classifications.get(name);
      if (!c) throw b.error(`unknown classtype "${name}"`);
      b.sig.classtype = name;
      b.sig.category = c.description;
      if (!b.priorityExplicit) b.sig.priority = c.priority;
    },
  },
  {
    name: 'priority',
    setup(b, v) {
      const n = parseIntStrict(unquote(v ?? ''), b, 'priority');
      if (n < 1 || n > 255) throw b.error(`priority ${n} out of range 1-255`);
      b.sig.priority = n;
      b.priorityExplicit = true;
    },
  },
  {
    name: 'reference',
    setup(b, v) {
      b.sig.references.push(unquote(v ?? '').trim());
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
