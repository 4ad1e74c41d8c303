// HTTP/2 integer keywords of Suricata 7 (detect-http2.c over rust/src/http2/detect.rs), each
// matched against the frames of the current HTTP/2 transaction in the packet's direction:
//
//   http2.frametype:<name|number>    a frame of that type (names as Suricata: DATA, HEADERS,
//                                    PRIORITY, RSTSTREAM, SETTINGS, PUSHPROMISE, PING, GOAWAY,
//                                    WINDOWUPDATE, CONTINUATION)
//   http2.errorcode:<name|number>    a RST_STREAM or GOAWAY with that error code (NO_ERROR, ...)
//   http2.priority:<uint>            a PRIORITY frame's or HEADERS priority weight
//   http2.window:<uint>              a WINDOW_UPDATE increment
//   http2.size_update:<uint>         an HPACK dynamic table size update in a header block
//   http2.settings:<id>[<op><value>] a SETTINGS entry with that identifier (and value)
//
// <uint> is Suricata's unsigned-integer syntax (N, <N, >N, <=N, >=N, !N, N-M / N<>M); a match
// on any one value of the transaction is a match. http2.header_name and http2.header are not
// supported (the second does not exist in Suricata 7.0.10; see docs/app-layer.md).
import type { DetectContext } from '../detectContext';
import { AppValue } from '../detectContext';
import type { PacketMatch } from '../signature';
import { parseUintCondition, type RuleBuilder, type UintCondition } from '../ruleBuilder';
import { requireAlproto } from './stickyBuffers';
import { BUFFERS } from '../buffers';
import type { KeywordDef } from './registry';
import { HTTP2_ERROR_CODE_NAMES, HTTP2_FRAME_TYPE_NAMES, HTTP2_SETTINGS_NAMES } from '../../applayer/http2Transaction';

/** Any value of `kind` equal to `value`. */
export class Http2ValueIsMatch implements PacketMatch {
  constructor(readonly kind: number, readonly value: number) {}
  match(ctx: DetectContext): boolean {
    if (ctx.appProto !== 'http2' || ctx.getValue === undefined) return false;
    for (let i = 0; ; i++) {
      const v = ctx.getValue(this.kind, i);
      if (v < 0) return false;
      if (v === this.value) return true;
    }
  }
}

/** Any value of `kind` meeting the condition. */
export class Http2ValueCondMatch implements PacketMatch {
  constructor(readonly kind: number, readonly cond: UintCondition) {}
  match(ctx: DetectContext): boolean {
    if (ctx.appProto !== 'http2' || ctx.getValue === undefined) return false;
    for (let i = 0; ; i++) {
      const v = ctx.getValue(this.kind, i);
      if (v < 0) return false;
      if (this.cond.test(v)) return true;
    }
  }
}

/** A SETTINGS entry with this identifier and, when given, a value meeting the condition. */
export class Http2SettingsMatch implements PacketMatch {
  constructor(readonly id: number, readonly cond: UintCondition | null) {}
  match(ctx: DetectContext): boolean {
    if (ctx.appProto !== 'http2' || ctx.getValue === undefined) return false;
    for (let i = 0; ; i++) {
      const id = ctx.getValue(AppValue.HTTP2_SETTINGS_ID, i);
      if (id < 0) return false;
      if (id === this.id && (this.cond === null || this.cond.test(ctx.getValue(AppValue.HTTP2_SETTINGS_VALUE, i)))) return true;
    }
  }
}

function http2Rule(b: RuleBuilder): void {
  requireAlproto(b, { ...BUFFERS[0]!, name: 'http2', alproto: 'http2' });
  b.sig.appTx = true;
}

/** A name from the table or a number up to max. */
function nameOrNumber(b: RuleBuilder, what: string, value: string | null, names: readonly string[], max: number): number {
  const v = (value ?? '').trim();
  const i = names.indexOf(v.toUpperCase());
  if (i >= 0) return i;
  if (/^\d+$/.test(v) && Number(v) <= max) return Number(v);
  throw b.error(`${what}: unknown value "${v}"`);
}

function uintKeyword(name: string, kind: number, max: number): KeywordDef {
  return {
    name,
    setup(b, value) {
      http2Rule(b);
      b.sig.packetMatches.push(new Http2ValueCondMatch(kind, parseUintCondition(value ?? '', b, name, max)));
    },
  };
}

export const http2Keywords: KeywordDef[] = [
  {
    name: 'http2.frametype',
    setup(b, value) {
      http2Rule(b);
      b.sig.packetMatches.push(new Http2ValueIsMatch(AppValue.HTTP2_FRAME_TYPE, nameOrNumber(b, 'http2.frametype', value, HTTP2_FRAME_TYPE_NAMES, 255)));
    },
  },
  {
    name: 'http2.errorcode',
    setup(b, value) {
      http2Rule(b);
      b.sig.packetMatches.push(new Http2ValueIsMatch(AppValue.HTTP2_ERROR_CODE, nameOrNumber(b, 'http2.errorcode', value, HTTP2_ERROR_CODE_NAMES, 0xffffffff)));
    },
  },
  uintKeyword('http2.priority', AppValue.HTTP2_PRIORITY, 255),
  uintKeyword('http2.window', AppValue.HTTP2_WINDOW, 0x7fffffff),
  uintKeyword('http2.size_update', AppValue.HTTP2_SIZE_UPDATE, Number.MAX_SAFE_INTEGER),
  {
    name: 'http2.settings',
    setup(b, value) {
      http2Rule(b);
      const m = /^\s*([A-Za-z_]+)\s*(.*)$/.exec(value ?? '');
      const id = m ? HTTP2_SETTINGS_NAMES[m[1]!.toUpperCase()] : undefined;
      if (!m || id === undefined) throw b.error(`http2.settings: unknown setting "${value ?? ''}"`);
      const rest = m[2]!.trim();
      b.sig.packetMatches.push(new Http2SettingsMatch(id, rest === '' ? null : parseUintCondition(rest, b, 'http2.settings', 0xffffffff)));
    },
  },
];
