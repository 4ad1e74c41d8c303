// HPACK (src/applayer/hpackDecoder.ts, hpackHuffman.ts) against RFC 7541 Appendix C: the
// request examples with and without Huffman, the response examples with a 256-byte table
// (eviction), then every error path and the memory bounds.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HpackDecoder, HpackError, HPACK_STATIC_TABLE_LENGTH, type HpackHeaderBlock } from '../../src/applayer/hpackDecoder';
import { decodeHuffman, encodeHuffman } from '../../src/applayer/hpackHuffman';

const hex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ''), 'hex'));
const text = (b: HpackHeaderBlock): string[] =>
  b.fields.map((f) => `${Buffer.from(f.name).toString('latin1')}: ${Buffer.from(f.value).toString('latin1')}`);

test('RFC 7541 C.3: three requests without Huffman share the dynamic table', () => {
  const d = new HpackDecoder();
  const r1 = d.decode(hex('828684410f7777772e6578616d706c652e636f6d'));
  assert.equal(text(r1), [':method: GET', ':scheme: http', ':path: /', ':authority: www.example.com']);
  assert.is(d.size, 57);
  const r2 = d.decode(hex('828684be58086e6f2d6361636865'));
  assert.equal(text(r2), [':method: GET', ':scheme: http', ':path: /', ':authority: www.example.com', 'cache-control: no-cache']);
  assert.is(d.size, 110);
  const r3 = d.decode(hex('828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565'));
  assert.equal(text(r3), [':method: GET', ':scheme: https', ':path: /index.html', ':authority: www.example.com', 'custom-key: custom-value']);
  assert.is(d.size, 164);
  assert.is(d.length, 3);
  assert.is(r3.error, HpackError.NONE);
});

test('RFC 7541 C.4: the same requests Huffman-coded', () => {
  const d = new HpackDecoder();
  assert.equal(text(d.decode(hex('828684418cf1e3c2e5f23a6ba0ab90f4ff'))), [':method: GET', ':scheme: http', ':path: /', ':authority: www.example.com']);
  assert.equal(text(d.decode(hex('828684be5886a8eb10649cbf'))).at(-1), 'cache-control: no-cache');
  assert.equal(text(d.decode(hex('828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf'))).at(-1), 'custom-key: custom-value');
  assert.is(d.size, 164);
});

test('RFC 7541 C.6: responses with a 256-byte table evict the oldest entries', () => {
  const d = new HpackDecoder();
  // Encoded by python-hpack 4.2 with header_table_size=256: a size update (3fe101) first.
  const b1 = d.decode(hex('3fe101488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f0b97c8e9ae82ae43d3'));
  assert.equal(b1.sizeUpdates, [256]);
  assert.equal(text(b1), [':status: 302', 'cache-control: private', 'date: Mon, 21 Oct 2013 20:13:21 GMT', 'location: https://www.example.com']);
  assert.is(d.size, 222);
  const b2 = d.decode(hex('4883640effc1c0bf'));
  assert.equal(text(b2)[0], ':status: 307');
  assert.is(d.size, 222);
  const b3 = d.decode(hex('88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007'));
  assert.equal(text(b3), [
    ':status: 200', 'cache-control: private', 'date: Mon, 21 Oct 2013 20:13:22 GMT', 'location: https://www.example.com',
    'content-encoding: gzip', 'set-cookie: foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1',
  ]);
  assert.is(d.size, 215);
  assert.is(d.length, 3);
});

test('Huffman: round trip of every byte value; bad padding and EOS are rejected (§5.2)', () => {
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  const enc = encodeHuffman(all);
  assert.equal([...decodeHuffman(enc, 0, enc.length)!], [...all]);
  // "a" is 00011 (5 bits): padded with ones it is 0x1f; with zeros the padding is invalid.
  assert.equal([...decodeHuffman(Uint8Array.of(0x1f), 0, 1)!], [0x61]);
  assert.is(decodeHuffman(Uint8Array.of(0x18), 0, 1), null);
  // 8 or more bits of padding: a full 0xff byte after a complete symbol.
  assert.is(decodeHuffman(Uint8Array.of(0x1f, 0xff), 0, 2), null);
  // EOS (30 ones) inside the string.
  assert.is(decodeHuffman(Uint8Array.of(0xff, 0xff, 0xff, 0xff), 0, 4), null);
});

test('errors stop the block and are reported: index, truncation, overflow, Huffman, size update', () => {
  const cases: Array<[string, number]> = [
    ['80', HpackError.BAD_INDEX], // index 0
    [(0x80 | 0x7f).toString(16) + '00', HpackError.BAD_INDEX], // index 127: beyond static, empty dynamic table
    ['410f7777', HpackError.TRUNCATED], // value length 15, 2 bytes there
    ['ff', HpackError.TRUNCATED], // integer continues past the end
    ['ffffffffff0f', HpackError.INTEGER_OVERFLOW],
    ['418118', HpackError.BAD_HUFFMAN], // Huffman value with zero padding
    ['3fe1ff07', HpackError.SIZE_UPDATE_TOO_LARGE], // 131,040 > 65,536
  ];
  for (const [h, err] of cases) {
    const d = new HpackDecoder();
    assert.is(d.decode(hex(h)).error, err, h);
  }
  // Fields before the error are kept.
  const d = new HpackDecoder();
  const b = d.decode(hex('8280'));
  assert.equal(text(b), [':method: GET']);
  assert.is(b.error, HpackError.BAD_INDEX);
});

test('bounded memory: the table never exceeds its limit, blocks are cut at their limits', () => {
  const d = new HpackDecoder({ tableLimit: 1024, maxFields: 10, maxBlockBytes: 2000 });
  // The peer may announce 1 MiB; the table stays at the limit.
  d.setMaxSize(1 << 20);
  assert.is(d.maxSize, 1024);
  // 50 literal-with-indexing fields of 100-byte values: entries of 133 bytes, 7 fit in 1024.
  const lit = (i: number): number[] => [0x40, 3, ...Buffer.from(`k${String(i).padStart(2, '0')}`), 100, ...Buffer.alloc(100, 0x61)];
  for (let i = 0; i < 50; i++) d.decode(Uint8Array.from(lit(i)));
  assert.ok(d.size <= 1024, `table ${d.size}`);
  assert.is(d.length, 7);
  const many = d.decode(Uint8Array.from(Array(20).fill(0x82)));
  assert.is(many.fields.length, 10);
  assert.is(many.error, HpackError.TOO_MANY_FIELDS);
  const big: number[] = [];
  for (let i = 0; i < 5; i++) big.push(0x00, 1, 0x78, 0x7f, 0x80, 0x03, ...Buffer.alloc(0x7f + 0x180, 0x62));
  const cut = d.decode(Uint8Array.from(big));
  assert.is(cut.error, HpackError.BLOCK_TOO_LARGE);
  // 512 bytes per field: the fourth would pass 2000.
  assert.is(cut.fields.length, 3);
  assert.is(HPACK_STATIC_TABLE_LENGTH, 61);
});

test.run();
