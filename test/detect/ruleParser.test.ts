import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { defaultDetectConfig } from '../../src/detect/detectConfig';
import { BufferId } from '../../src/detect/buffers';
import { ruleLines } from '../../src/detect/ruleLoader';
import { LateralError } from '../../src/errors';
import { ContentMatch } from '../../src/detect/keywords/content';
import { load, packet, engine, TestContext, sids } from './detectFixture';

test('all actions parse, with their reject kinds', () => {
  const set = load(['alert', 'drop', 'reject', 'rejectsrc', 'rejectdst', 'rejectboth', 'pass']
    .map((a, i) => `${a} tcp any any -> any any (sid:${i + 1};)`).join('\n'));
  assert.equal(set.errors.length, 0);
  assert.equal(set.signatures.map((s) => s.actionName), ['alert', 'drop', 'reject', 'rejectsrc', 'rejectdst', 'rejectboth', 'pass']);
  assert.equal(set.signatures.map((s) => s.rejectKind), [0, 0, 1, 1, 2, 3, 0]);
});

test('protocols: l4 names, app-layer names imply transport + app proto', () => {
  const set = load([
    'alert ip any any -> any any (sid:1;)',
    'alert udp any any -> any any (sid:2;)',
    'alert icmp any any -> any any (sid:3;)',
    'alert http any any -> any any (sid:4;)',
    'alert dns any any -> any any (sid:5;)',
    'alert tcp-pkt any any -> any any (sid:6;)',
    'alert ftp any any -> any any (sid:7;)',
  ].join('\n'));
  const s = set.signatures;
  assert.equal(s[0]!.ipProtos, []);
  assert.equal(s[1]!.ipProtos, [17]);
  assert.equal(s[2]!.ipProtos, [1, 58]);
  assert.equal([s[3]!.ipProtos, s[3]!.alproto], [[6], 'http']);
  assert.equal([s[4]!.ipProtos, s[4]!.alproto], [[6, 17], 'dns']);
  assert.ok(s[5]!.noStream);
  assert.equal(set.skipped[0]!.reason, 'unsupported app-layer protocol: ftp');
});

test('addresses: vars, CIDR, netmask, lists, nesting, negation, ranges, IPv6', () => {
  const set = load([
    'alert tcp $HOME_NET any -> $EXTERNAL_NET any (sid:1;)',
    'alert tcp [10.0.0.0/8,![10.1.0.0/16,10.2.3.4]] any -> 192.168.1.0/255.255.255.0 any (sid:2;)',
    'alert tcp 1.2.3.4-1.2.3.9 any -> [2001:db8::/32,!2001:db8::1] any (sid:3;)',
  ].join('\n'));
  assert.equal(set.errors.length, 0);
  const [a, b, c] = set.signatures;
  const ip = (s: string): Uint8Array => packet({ src: s }).src;
  assert.ok(a!.src.match(ip('172.20.1.1')));
  assert.not.ok(a!.src.match(ip('8.8.8.8')));
  assert.ok(a!.dst.match(ip('8.8.8.8')));
  assert.not.ok(a!.dst.match(ip('192.168.3.3')));
  assert.ok(b!.src.match(ip('10.9.9.9')));
  assert.not.ok(b!.src.match(ip('10.1.200.1')));
  assert.not.ok(b!.src.match(ip('10.2.3.4')));
  assert.ok(b!.dst.match(ip('192.168.1.77')));
  assert.not.ok(b!.dst.match(ip('192.168.2.77')));
  assert.ok(c!.src.match(ip('1.2.3.9')));
  assert.not.ok(c!.src.match(ip('1.2.3.10')));
  const v6 = (bytes: number[]): Uint8Array => Uint8Array.from(bytes);
  assert.ok(c!.dst.match(v6([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2])));
  assert.not.ok(c!.dst.match(v6([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])));
  assert.not.ok(c!.dst.match(ip('1.2.3.4')));
});

test('ports: ranges, open ranges, lists, negation, vars', () => {
  const set = load('alert tcp any [1024:,!8080,$HTTP_PORTS] -> any [:100,!$SSH_PORTS] (sid:1;)');
  const s = set.signatures[0]!;
  assert.ok(s.sport.match(80));
  assert.ok(s.sport.match(5000));
  assert.not.ok(s.sport.match(8080));
  assert.not.ok(s.sport.match(443));
  assert.ok(s.dport.match(21));
  assert.not.ok(s.dport.match(22));
  assert.not.ok(s.dport.match(101));
});

test('bidirectional <> matches both ways, -> one way', () => {
  const e = engine('alert tcp 10.0.0.1 any <> 10.0.0.2 80 (sid:1;)\nalert tcp 10.0.0.1 any -> 10.0.0.2 80 (sid:2;)');
  const fwd = new TestContext(packet({ src: '10.0.0.1', dst: '10.0.0.2', dport: 80 }));
  const rev = new TestContext(packet({ src: '10.0.0.2', dst: '10.0.0.1', sport: 80, dport: 40000 }));
  assert.equal(sids(e, fwd), [1, 2]);
  assert.equal(sids(e, rev), [1]);
});

test('options: escapes in msg and content, hex, multi-line, comments', () => {
  const text = [
    '# a comment',
    '',
    '#alert tcp any any -> any any (sid:99;)',
    'alert tcp any any -> any any (msg:"semi\\; quote\\" back\\\\"; \\',
    '   content:"a\\;b|0d 0A|\\"c"; sid:1; rev:3;)',
  ].join('\n');
  assert.equal(ruleLines(text).length, 1);
  const set = load(text);
  assert.equal(set.errors, []);
  const s = set.signatures[0]!;
  assert.is(s.msg, 'semi; quote" back\\');
  assert.is(s.location.line, 4);
  assert.is(s.rev, 3);
  const c = s.buffers[0]!.items[0] as ContentMatch;
  assert.equal(Buffer.from(c.pattern).toString('latin1'), 'a;b\r\n"c');
});

test('sticky buffer and legacy modifier compile to the same form', () => {
  const set = load([
    'alert http any any -> any any (http.uri; content:"/x"; nocase; sid:1;)',
    'alert http any any -> any any (content:"/x"; http_uri; nocase; sid:2;)',
    'alert tcp any any -> any any (uricontent:"/x"; nocase; sid:3;)',
  ].join('\n'));
  for (const s of set.signatures) {
    assert.is(s.buffers.length, 1);
    assert.is(s.buffers[0]!.bufferId, BufferId.HTTP_URI);
    assert.ok((s.buffers[0]!.items[0] as ContentMatch).nocase);
    assert.is(s.alproto, 'http');
  }
});

test('legacy modifier on a relative content with nothing before it is skipped; duplicate sids as Suricata', () => {
  const set = load([
    'alert http any any -> any any (content:"a"; http_uri; content:"b"; distance:0; http_header; sid:1;)',
    'alert http any any -> any any (content:"a"; http_uri; content:"b"; distance:0; http_uri; sid:2;)',
    'alert tcp any any -> any any (msg:"old"; sid:3; rev:1;)',
    'alert tcp any any -> any any (msg:"new"; sid:3; rev:2;)',
    'alert tcp any any -> any any (msg:"older"; sid:3; rev:1;)',
  ].join('\n'));
  assert.equal(set.signatures.map((s) => [s.sid, s.msg]), [[2, ''], [3, 'new']]);
  assert.equal(set.skipped.map((s) => [s.line, s.reason]), [
    [1, 'http_header on a relative content with no earlier match in that buffer'],
    [3, 'duplicate sid (replaced by a higher rev)'],
  ]);
  assert.match(set.errors[0]!.message, /^test\.rules:5: duplicate signature 1:3/);
});

test('classtype gives category and priority; priority overrides', () => {
  const set = load('alert tcp any any -> any any (classtype:trojan-activity; sid:1;)\nalert tcp any any -> any any (classtype:trojan-activity; priority:3; sid:2;)');
  assert.is(set.signatures[0]!.category, 'A Network Trojan was detected');
  assert.is(set.signatures[0]!.priority, 1);
  assert.is(set.signatures[1]!.priority, 3);
});

test('syntax errors name file:line and cause; the rest of the file loads', () => {
  const set = load([
    'alert tcp any any -> any any (sid:1;)',
    'alert tcp any any => any any (sid:2;)',
    'alert tcp any any -> any any (content:"x"; depth:0; sid:3;)',
    'alert tcp any any -> any any (sid:4; msg:"x")',
    'alert tcp any any -> $NOPE any (sid:5;)',
    'alert tcp any any -> any any (msg:"no sid";)',
    'alert tcp any 70000 -> any any (sid:7;)',
    'alert tcp any any -> any any (sid:8;)',
  ].join('\n'));
  assert.equal(set.signatures.map((s) => s.sid), [1, 8]);
  assert.is(set.errors.length, 6);
  for (const e of set.errors) assert.instance(e, LateralError);
  assert.match(set.errors[0]!.message, /^test\.rules:2: bad direction/);
  assert.match(set.errors[1]!.message, /^test\.rules:3: depth 0 is smaller/);
  assert.match(set.errors[2]!.message, /test\.rules:4: option .* not terminated/);
  assert.match(set.errors[3]!.message, /test\.rules:5: undefined address variable \$NOPE/);
  assert.match(set.errors[4]!.message, /test\.rules:6: rule has no sid/);
  assert.match(set.errors[5]!.message, /port 70000 out of range/);
});

test('unsupported keywords skip the whole rule with the reason', () => {
  const set = load('alert tcp any any -> any any (content:"a"; flowint:n,>,5; sid:1;)\nalert tcp any any -> any any (pcre:"/a++/"; sid:2;)');
  assert.is(set.signatures.length, 0);
  assert.equal(set.skipped.map((s) => [s.sid, s.reason]), [
    [1, 'unsupported keyword: flowint'],
    [2, 'pcre: possessive quantifier not expressible in JS'],
  ]);
});

test('vars come from a Suricata YAML, defaults kept for the rest', async () => {
  const fs = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const { loadDetectConfig } = await import('../../src/detect/detectConfig');
  const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lat-')), 's.yaml');
  fs.writeFileSync(f, '%YAML 1.1\n---\nvars:\n  address-groups:\n    HOME_NET: "[172.17.0.0/16]"\n  port-groups:\n    HTTP_PORTS: "[80,8080]"\n');
  const cfg = loadDetectConfig(f);
  assert.is(cfg.addressVars.get('HOME_NET'), '[172.17.0.0/16]');
  assert.is(cfg.portVars.get('SSH_PORTS'), '22');
  const set = load('alert tcp $EXTERNAL_NET any -> $HOME_NET $HTTP_PORTS (sid:1;)', cfg);
  const s = set.signatures[0]!;
  assert.ok(s.dport.match(8080));
  assert.ok(s.dst.match(packet({ src: '172.17.0.5' }).src));
  assert.not.ok(s.dst.match(packet({ src: '10.0.0.5' }).src));
  assert.is(defaultDetectConfig().addressVars.get('HOME_NET'), '[192.168.0.0/16,10.0.0.0/8,172.16.0.0/12]');
});

test.run();
