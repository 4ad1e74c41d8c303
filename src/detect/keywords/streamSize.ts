// stream_size: compare how far a TCP session's sides got in sequence space (Suricata
// detect-stream_size.c): `stream_size:<server|client|both|either>,<op>,<n>` with op one of
// < <= > >= = != . The size is next_seq − isn of that side (its SYN counts one), so
// `stream_size:server,<,5` means "the server sent fewer than 4 bytes so far". The packet's own
// data is already counted (detection runs after the stream update). Without a TCP session
// the keyword never matches, as in Suricata.

import type { DetectContext } from '../detectContext';
import type { PacketMatch } from '../signature';
import { UintCondition, UintMode, unquote } from '../ruleBuilder';
import type { KeywordDef } from './registry';

export const StreamSizeSide = { SERVER: 0, CLIENT: 1, BOTH: 2, EITHER: 3 } as const;

const SIDES: Record<string, number> = {
  server: StreamSizeSide.SERVER, client: StreamSizeSide.CLIENT,
  both: StreamSizeSide.BOTH, either: StreamSizeSide.EITHER,
};
const OPS: Record<string, number> = {
  '<': UintMode.LT, '<=': UintMode.LTE, '>': UintMode.GT, '>=': UintMode.GTE, '=': UintMode.EQ, '!=': UintMode.NE,
};

export class StreamSizeMatch implements PacketMatch {
  constructor(readonly side: number, readonly cond: UintCondition) {}
  match(ctx: DetectContext): boolean {
    if (ctx.tcpStreamSize === undefined || !ctx.packet.isTcp) return false;
    const client = ctx.tcpStreamSize(true);
    if (client < 0) return false;
    const server = ctx.tcpStreamSize(false);
    switch (this.side) {
      case StreamSizeSide.SERVER: return this.cond.test(server);
      case StreamSizeSide.CLIENT: return this.cond.test(client);
      case StreamSizeSide.BOTH: return this.cond.test(server) && this.cond.test(client);
      default: return this.cond.test(server) || this.cond.test(client);
    }
  }
}

export const streamSizeKeyword: KeywordDef = {
  name: 'stream_size',
  setup(b, value) {
    const m = /^\s*([A-Za-z_]+)\s*,\s*([<=>!]+)\s*,\s*(\d+)\s*$/.exec(unquote(value ?? ''));
    if (m === null) throw b.error(`stream_size: expected "<server|client|both|either>,<op>,<bytes>", got "${value ?? ''}"`);
    const side = SIDES[m[1]!.toLowerCase()];
    if (side === undefined) throw b.error(`stream_size: unknown side "${m[1]}" (server, client, both or either)`);
    const op = OPS[m[2]!];
    if (op === undefined) throw b.error(`stream_size: unknown operator "${m[2]}" (<, <=, >, >=, =, !=)`);
    const n = Number(m[3]);
    if (n > 0xffffffff) throw b.error(`stream_size: ${n} out of range (max 4294967295)`);
    b.sig.packetMatches.push(new StreamSizeMatch(side, new UintCondition(op, n, 0)));
  },
};
