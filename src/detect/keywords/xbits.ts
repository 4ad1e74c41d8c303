// xbits: named bits on a host or an address pair instead of a flow (Suricata detect-xbits.c):
//   xbits:<set|unset|toggle|isset|isnotset>,<name>,track <ip_src|ip_dst|ip_pair>[,expire <s>];
// ip_src / ip_dst are Suricata's hostbits of the packet's source / destination, ip_pair its
// ippair bits (either direction). set/unset/toggle act after the whole rule matched, like
// flowbits; isset/isnotset are conditions. A set bit lives `expire` seconds of packet time
// (default 30, DETECT_XBITS_EXPIRE_DEFAULT). Rules using xbits are ordered like flowbits
// (setters before readers), as Suricata's sigorder treats both alike.

import type { DetectContext } from '../detectContext';
import type { PacketMatch, PostMatch } from '../signature';
import { unquote } from '../ruleBuilder';
import { XbitTrack, xbitKey, type XbitTable } from '../xbitTable';
import type { KeywordDef } from './registry';

const DEFAULT_EXPIRE = 30;

export class XbitCondition implements PacketMatch {
  constructor(readonly table: XbitTable, readonly slot: number, readonly track: number, readonly isset: boolean) {}
  match(ctx: DetectContext): boolean {
    const p = ctx.packet;
    if (p.ipVersion === 0) return false;
    return this.table.isSet(xbitKey(this.slot, this.track, p.src, p.dst), p.tsSec) === this.isset;
  }
}

export const XbitOp = { SET: 0, UNSET: 1, TOGGLE: 2 } as const;

export class XbitAction implements PostMatch {
  constructor(
    readonly table: XbitTable, readonly slot: number, readonly track: number,
    readonly op: number, readonly expire: number,
  ) {}
  apply(ctx: DetectContext): void {
    const p = ctx.packet;
    if (p.ipVersion === 0) return;
    const key = xbitKey(this.slot, this.track, p.src, p.dst);
    const now = p.tsSec;
    if (this.op === XbitOp.UNSET || (this.op === XbitOp.TOGGLE && this.table.isSet(key, now))) this.table.unset(key);
    else this.table.set(key, now + this.expire, now);
  }
}

const TRACKS: Record<string, number> = { ip_src: XbitTrack.IP_SRC, ip_dst: XbitTrack.IP_DST, ip_pair: XbitTrack.IP_PAIR };

export const xbitsKeyword: KeywordDef = {
  name: 'xbits',
  setup(b, value) {
    const parts = unquote(value ?? '').split(',').map((x) => x.trim());
    const cmd = (parts[0] ?? '').toLowerCase();
    if (cmd === 'noalert') throw b.error('xbits:noalert is not supported (use flowbits:noalert), as in Suricata');
    if (!['set', 'unset', 'toggle', 'isset', 'isnotset'].includes(cmd)) throw b.error(`xbits: unknown command "${parts[0] ?? ''}"`);
    const name = parts[1];
    if (name === undefined || !/^[^\s,;|&]+$/.test(name)) throw b.error(`xbits: bad or missing name "${name ?? ''}"`);
    let track = -1;
    let expire = DEFAULT_EXPIRE;
    for (const opt of parts.slice(2)) {
      const m = /^(track|expire)\s+(\S+)$/i.exec(opt);
      if (m === null) throw b.error(`xbits: bad option "${opt}" (track <ip_src|ip_dst|ip_pair>, expire <seconds>)`);
      if (m[1]!.toLowerCase() === 'track') {
        const t = TRACKS[m[2]!.toLowerCase()];
        if (t === undefined) throw b.error(`xbits: unknown track "${m[2]}" (ip_src, ip_dst or ip_pair)`);
        track = t;
      } else {
        if (!/^\d+$/.test(m[2]!) || Number(m[2]) === 0 || Number(m[2]) > 0xffffffff) throw b.error(`xbits: bad expire "${m[2]}"`);
        expire = Number(m[2]);
      }
    }
    if (track < 0) throw b.error('xbits: missing "track <ip_src|ip_dst|ip_pair>"');
    const table = b.flowbits.xbits;
    // Slots share the flowbit name space under a prefix so the names never collide.
    const slot = b.flowbits.xbitSlot(name, track);
    const sig = b.sig;
    const cur = sig.flowbitsOrder;
    if (cmd === 'isset' || cmd === 'isnotset') {
      sig.packetMatches.push(new XbitCondition(table, slot, track, cmd === 'isset'));
      sig.flowbitsOrder = cur === 4 || cur === 3 ? 3 : 2;
    } else {
      const op = cmd === 'set' ? XbitOp.SET : cmd === 'unset' ? XbitOp.UNSET : XbitOp.TOGGLE;
      sig.postMatches.push(new XbitAction(table, slot, track, op, expire));
      sig.flowbitsOrder = cur === 2 || cur === 3 ? 3 : 4;
    }
  },
};
