// A PacketBatch as the NFQUEUE addon hands it over (arena + metadata table), built from raw
// IPv4 packets, for tests that drive EngineVerdictHandler without a kernel queue.
import { META_STRIDE, MetaField } from '../../src/capture/native';
import { PacketBatch } from '../../src/capture/packetBatch';

export function ipv4BatchOf(packets: number[][]): PacketBatch {
  const meta = new Uint32Array(META_STRIDE * packets.length);
  const arena = new ArrayBuffer(2048 * packets.length);
  const bytes = new Uint8Array(arena);
  packets.forEach((p, i) => {
    bytes.set(p, 2048 * i);
    meta[i * META_STRIDE + MetaField.ID] = 1 + i;
    meta[i * META_STRIDE + MetaField.OFFSET] = 2048 * i;
    meta[i * META_STRIDE + MetaField.CAP_LEN] = p.length;
    meta[i * META_STRIDE + MetaField.ORIG_LEN] = p.length;
    meta[i * META_STRIDE + MetaField.HW_PROTOCOL] = 0x0800;
  });
  const b = new PacketBatch(0, arena, meta, 0x100000, 0x200000);
  b.reset(packets.length);
  return b;
}
