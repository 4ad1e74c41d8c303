// Raw-stream progress and stream-vs-packet choice in the engine, on hand-filled contexts:
// a stream match must reach the bytes not handed over before (DetectContext.streamInspected),
// and a packet whose payload went into the stream (streamAdded) is matched through the
// stream only, unless the rule needs the packet (tcp-pkt, dsize, depth/offset), as Suricata.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { engine, packet, sids, TestContext } from './detectFixture';

function ctxFor(e: ReturnType<typeof engine>, payload: string, stream: string, inspected: number, added: boolean): TestContext & { streamInspected: number; streamAdded: boolean } {
  const c = new TestContext(packet({ payload })) as TestContext & { streamInspected: number; streamAdded: boolean };
  c.flowDetect = e.newFlowState();
  c.stream = Buffer.from(stream, 'latin1');
  c.streamInspected = inspected;
  c.streamAdded = added;
  return c;
}

test('a stream match wholly in bytes inspected before does not alert again', () => {
  const e = engine('alert tcp any any -> any any (content:"evil"; sid:1;)');
  // "evil" lies in the first 8 bytes, handed over on an earlier packet; new bytes "tail".
  assert.equal(sids(e, ctxFor(e, 'tail', 'xxxxevil' + 'tail', 8, true)), []);
  // Straddling the boundary: the packet completing it alerts.
  assert.equal(sids(e, ctxFor(e, 'il..', 'xxxxxxev' + 'il..', 8, true)), [1]);
  // A second occurrence in the new bytes alerts (the first one, old, is skipped over).
  assert.equal(sids(e, ctxFor(e, 'evil', 'xxxxevil' + 'evil', 8, true)), [1]);
});

test('old bytes still serve as the first part of a relative chain completed now', () => {
  const e = engine('alert tcp any any -> any any (content:"CONFIG"; content:"SET"; distance:0; pcre:"/SET\\s+dir\\s/"; sid:7;)');
  assert.equal(sids(e, ctxFor(e, ' ', 'CONFIG SET dir' + ' ', 14, true)), [7]);
  assert.equal(sids(e, ctxFor(e, 'x', 'CONFIG SET dir ' + 'x', 15, true)), []);
});

test('stream-added packets skip the payload unless the rule needs the packet', () => {
  const e = engine([
    'alert tcp any any -> any any (content:"evil"; sid:1;)',
    'alert tcp any any -> any any (content:"evil"; depth:4; sid:2;)',
    'alert tcp-pkt any any -> any any (content:"evil"; sid:3;)',
  ].join('\n'));
  // The packet's "evil" went into the stream and was matched there on an earlier call
  // (inspected = 4): only the rules that need the packet match its payload again.
  assert.equal(sids(e, ctxFor(e, 'evil', 'evil', 4, true)), [2, 3]);
  // Not added to the stream (retransmission, past depth): the payload is inspected.
  assert.equal(sids(e, ctxFor(e, 'evil', 'evil', 4, false)), [1, 2, 3]);
});

test.run();
