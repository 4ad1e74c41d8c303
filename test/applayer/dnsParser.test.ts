// DNS parsing: the corpus NULL-record exchange (values from `tshark -T fields -e dns.id
// -e dns.qry.name -e dns.qry.type -e dns.flags.rcode -e dns.resp.ttl`), crafted malformed
// messages, and TCP framing across every split.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { dnsEve } from '../../src/applayer/appLayerEve';
import { DnsTcpFramer, parseDns, probeDns } from '../../src/applayer/dnsParser';
import { corpusPath } from '../support/corpus';
import { readCapture } from './pcapStreams';

const cap = readCapture(corpusPath('pcaps', 'dns-null-record.pcap'));

test('corpus dns-null-record: query and answer', () => {
  assert.is(cap.datagrams.length, 2);
  const [q, r] = cap.datagrams.map((d) => parseDns(d.data, 0, d.data.length)!);
  assert.ok(q && r);
  assert.is(q!.id, 0x12b0);
  assert.is(q!.response, false);
  assert.is(q!.questions[0]!.name, 'vaaaakardli.pirate.sea');
  assert.is(q!.questions[0]!.type, 10);
  assert.is(r!.id, 0x12b0);
  assert.is(r!.response, true);
  assert.is(r!.rcode, 0);
  assert.is(r!.answers.length, 1);
  assert.is(r!.answers[0]!.type, 10);
  assert.is(r!.answers[0]!.ttl, 0);
  assert.equal(dnsEve(q!), { type: 'query', id: 0x12b0, rrname: 'vaaaakardli.pirate.sea', rrtype: 'NULL', opcode: 0 });
  const e = dnsEve(r!);
  assert.is(e.rcode, 'NOERROR');
  assert.is(e.rrname, 'vaaaakardli.pirate.sea');
});

test('probe: direction must match the QR bit', () => {
  const q = cap.datagrams[0]!.data;
  assert.is(probeDns(q, 0, q.length, false, true), 1);
  assert.is(probeDns(q, 0, q.length, false, false), -1);
});

function msg(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex.replace(/\s+/g, ''), 'hex'));
}

test('malformed: compression loop, truncated question, short header', () => {
  // Header with one question whose name is a pointer to itself.
  const loop = msg('1234 0100 0001 0000 0000 0000 c00c 0001 0001');
  assert.is(parseDns(loop, 0, loop.length), null);
  const trunc = msg('1234 0100 0001 0000 0000 0000 03 777777');
  assert.is(parseDns(trunc, 0, trunc.length), null);
  assert.is(parseDns(msg('1234'), 0, 2), null);
  // Compressed answer name pointing at the question: decoded.
  const ok = msg('abcd 8180 0001 0001 0000 0000 01 61 02 6263 00 0001 0001 c00c 0001 0001 0000003c 0004 0a000001');
  const m = parseDns(ok, 0, ok.length)!;
  assert.is(m.questions[0]!.name, 'a.bc');
  assert.is(m.answers[0]!.name, 'a.bc');
  assert.is(m.answers[0]!.data, '10.0.0.1');
  assert.is(m.answers[0]!.ttl, 60);
});

test('TCP framing: two length-prefixed messages, split at every byte', () => {
  const q = cap.datagrams[0]!.data;
  const r = cap.datagrams[1]!.data;
  const stream = Buffer.concat([Buffer.from([q.length >> 8, q.length & 255]), q, Buffer.from([r.length >> 8, r.length & 255]), r]);
  for (let i = 0; i <= stream.length; i++) {
    const got: string[] = [];
    const f = new DnsTcpFramer();
    const on = (d: Uint8Array, s: number, e: number): void => {
      const m = parseDns(d, s, e);
      got.push(m ? `${m.id}:${m.response}:${m.questions[0]!.name}` : 'bad');
    };
    f.feed(stream, 0, i, on);
    f.feed(stream, i, stream.length, on);
    assert.equal(got, ['4784:false:vaaaakardli.pirate.sea', '4784:true:vaaaakardli.pirate.sea'], `split ${i}`);
  }
});

test.run();
