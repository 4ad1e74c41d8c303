import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { META_STRIDE, MetaField, NfVerdict } from '../../src/capture/native';
import { PacketBatch } from '../../src/capture/packetBatch';

const REPEAT = 0x100000;
const BYPASS = 0x200000;

// A metadata table as the addon fills it: three packets, the second already carrying an
// unrelated mark bit (0x1) that every verdict must preserve.
function batchOf(marks: number[]): PacketBatch {
  const meta = new Uint32Array(META_STRIDE * 4);
  const arena = new ArrayBuffer(256);
  marks.forEach((m, i) => {
    meta[i * META_STRIDE + MetaField.ID] = 100 + i;
    meta[i * META_STRIDE + MetaField.MARK] = m;
    meta[i * META_STRIDE + MetaField.OFFSET] = 64 * i;
    meta[i * META_STRIDE + MetaField.CAP_LEN] = 60;
    meta[i * META_STRIDE + MetaField.ORIG_LEN] = 1500;
    meta[i * META_STRIDE + MetaField.HW_PROTOCOL] = 0x0800;
  });
  const b = new PacketBatch(7, arena, meta, REPEAT, BYPASS);
  b.reset(marks.length);
  return b;
}

test('reset presets every slot to NF_REPEAT with the repeat bit added to the packet mark', () => {
  const b = batchOf([0, 0x1, 0]);
  assert.is(b.count, 3);
  assert.equal(Array.from(b.ids.subarray(0, 3)), [100, 101, 102]);
  assert.equal(Array.from(b.verdicts.subarray(0, 3)), [NfVerdict.REPEAT, NfVerdict.REPEAT, NfVerdict.REPEAT]);
  assert.equal(Array.from(b.marks.subarray(0, 3)), [REPEAT, REPEAT | 0x1, REPEAT]);
  assert.is(b.offset(2), 128);
  assert.is(b.capLen(1), 60);
  assert.is(b.origLen(1), 1500);
  assert.is(b.hwProtocol(0), 0x0800);
});

test('drop, bypass and accept rewrite one slot each', () => {
  const b = batchOf([0, 0x1, 0]);
  b.drop(0);
  b.bypass(1);
  assert.is(b.verdicts[0], NfVerdict.DROP);
  assert.is(b.verdicts[1], NfVerdict.REPEAT);
  assert.is(b.marks[1], REPEAT | BYPASS | 0x1);
  assert.is(b.verdicts[2], NfVerdict.REPEAT);
  b.accept(1);
  assert.is(b.marks[1], REPEAT | 0x1, 'accept after bypass takes the bypass bit away again');
  b.accept(0);
  assert.is(b.verdicts[0], NfVerdict.REPEAT);
});

test('a high mark bit survives as an unsigned value', () => {
  const b = batchOf([0x80000000]);
  assert.is(b.marks[0], (0x80000000 | REPEAT) >>> 0);
});

test.run();
