// xbits (Suricata detect-xbits.c): host bits (track ip_src / ip_dst) and ip-pair bits, set by
// one rule and read by another on packets of OTHER flows, with expiry in packet time, unset,
// toggle, setters ordered before readers, the bounded table and the parse errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TestContext, engine, load, packet, sids, type PacketSpec } from './detectFixture';
import type { DetectEngine } from '../../src/detect/detectEngine';
import { XbitTable } from '../../src/detect/xbitTable';

/** A packet of its own flow (fresh flow state each time: xbits do not live on flows). */
function on(e: DetectEngine, spec: PacketSpec): number[] {
  const ctx = new TestContext(packet(spec));
  ctx.flowDetect = e.newFlowState();
  return sids(e, ctx);
}

test('track ip_src: set by one host\'s request, seen on its later flow to another server', () => {
  const e = engine([
    'alert tcp any any -> any any (msg:"set"; content:"login"; xbits:set,seen,track ip_src; sid:1;)',
    'alert tcp any any -> any any (msg:"isset"; content:"exfil"; xbits:isset,seen,track ip_src; sid:2;)',
    'alert tcp any any -> any any (msg:"isnotset"; content:"exfil"; xbits:isnotset,seen,track ip_src; sid:3;)',
  ].join('\n'));
  assert.equal(on(e, { src: '10.0.0.9', dst: '10.0.0.2', payload: 'exfil' }), [3]);
  assert.equal(on(e, { src: '10.0.0.1', dst: '10.0.0.2', payload: 'login' }), [1]);
  assert.equal(on(e, { src: '10.0.0.1', dst: '10.0.0.3', payload: 'exfil', sport: 50000 }), [2]);
  // Another host is not marked; the marked host as destination is not its source.
  assert.equal(on(e, { src: '10.0.0.9', dst: '10.0.0.2', payload: 'exfil' }), [3]);
  assert.equal(on(e, { src: '10.0.0.2', dst: '10.0.0.1', payload: 'exfil' }), [3]);
});

test('track ip_dst and ip_pair (either direction)', () => {
  const e = engine([
    'alert tcp any any -> any any (content:"mark"; xbits:set,victim,track ip_dst; xbits:set,pair,track ip_pair; sid:1;)',
    'alert tcp any any -> any any (content:"check"; xbits:isset,victim,track ip_src; sid:2;)',
    'alert tcp any any -> any any (content:"check"; xbits:isset,pair,track ip_pair; sid:3;)',
  ].join('\n'));
  on(e, { src: '10.0.0.1', dst: '10.0.0.2', payload: 'mark' });
  // ip_dst marked 10.0.0.2 (a host bit: readable as ip_src of its own packets); the pair
  // {10.0.0.1, 10.0.0.2} is the same both ways, and host bits and pair bits are apart.
  assert.equal(on(e, { src: '10.0.0.2', dst: '10.0.0.1', payload: 'check' }), [2, 3]);
  assert.equal(on(e, { src: '10.0.0.2', dst: '10.0.0.7', payload: 'check' }), [2]);
  assert.equal(on(e, { src: '10.0.0.1', dst: '10.0.0.7', payload: 'check' }), []);
});

test('expire: a bit lives `expire` seconds of packet time (default 30)', () => {
  const e = engine([
    'alert tcp any any -> any any (content:"a"; xbits:set,short,track ip_src,expire 10; sid:1;)',
    'alert tcp any any -> any any (content:"b"; xbits:set,dflt,track ip_src; sid:2;)',
    'alert tcp any any -> any any (content:"q"; xbits:isset,short,track ip_src; sid:3;)',
    'alert tcp any any -> any any (content:"q"; xbits:isset,dflt,track ip_src; sid:4;)',
  ].join('\n'));
  on(e, { payload: 'a', ts: 1000 });
  on(e, { payload: 'b', ts: 1000 });
  assert.equal(on(e, { payload: 'q', ts: 1010 }), [3, 4]);
  assert.equal(on(e, { payload: 'q', ts: 1011 }), [4]);
  assert.equal(on(e, { payload: 'q', ts: 1030 }), [4]);
  assert.equal(on(e, { payload: 'q', ts: 1031 }), []);
  assert.ok(e.xbits!.stats.expired >= 2);
});

test('unset and toggle; setters run before readers whatever the file order', () => {
  const e = engine([
    'alert tcp any any -> any any (msg:"reader first in the file"; content:"go"; xbits:isset,t,track ip_pair; sid:1;)',
    'alert tcp any any -> any any (content:"go"; xbits:toggle,t,track ip_pair; sid:2;)',
    'alert tcp any any -> any any (content:"stop"; xbits:unset,t,track ip_pair; sid:3;)',
  ].join('\n'));
  // The toggle (a setter) runs before the isset: on the first "go" the bit is set before sid 1 reads it.
  assert.equal(on(e, { payload: 'go' }), [1, 2]);
  assert.equal(on(e, { payload: 'go' }), [2]); // toggled off before the read
  assert.equal(on(e, { payload: 'go' }), [1, 2]);
  assert.equal(on(e, { payload: 'stop' }), [3]);
  assert.equal(e.xbits!.size, 0);
});

test('the table is bounded: expired bits make room, live ones refuse the set (counted)', () => {
  const t = new XbitTable(2);
  t.set('a', 100, 0);
  t.set('b', 100, 0);
  t.set('c', 100, 0);
  assert.is(t.stats.refused, 1);
  assert.not.ok(t.isSet('c', 0));
  t.set('a', 100, 0); // re-setting a live key is not a new entry
  assert.is(t.stats.refused, 1);
  t.set('c', 300, 200); // a and b expired at 200: purged
  assert.ok(t.isSet('c', 200));
  assert.is(t.size, 1);
  assert.is(t.stats.expired, 2);
});

test('resetThresholds also forgets xbits (a new capture)', () => {
  const e = engine('alert tcp any any -> any any (content:"x"; xbits:set,k,track ip_src; sid:1;)\nalert tcp any any -> any any (content:"y"; xbits:isset,k,track ip_src; sid:2;)');
  on(e, { payload: 'x' });
  assert.equal(on(e, { payload: 'y' }), [2]);
  e.resetThresholds();
  assert.equal(on(e, { payload: 'y' }), []);
});

test('bad xbits options are rule errors naming the cause', () => {
  for (const [value, cause] of [
    ['set,name', /missing "track/],
    ['set,name,track ip_both', /unknown track "ip_both"/],
    ['flip,name,track ip_src', /unknown command "flip"/],
    ['noalert', /not supported/],
    ['set,name,track ip_src,expire 0', /bad expire/],
    ['set,name,track ip_src,ttl 5', /bad option/],
  ] as const) {
    const set = load(`alert tcp any any -> any any (xbits:${value}; sid:1;)`);
    assert.is(set.signatures.length, 0, value);
    assert.match(set.errors[0]?.message ?? '', cause);
  }
  // The ET Open spelling, with a space before expire, loads.
  assert.is(load('alert tcp any any -> any any (xbits:set,ET.IBMDRM1,track ip_dst, expire 10; sid:1;)').signatures.length, 1);
});

test.run();
