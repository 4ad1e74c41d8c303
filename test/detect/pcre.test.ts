// pcre semantics (Suricata runs PCRE with the rule's flags): ^ and $ anchors, caseless
// matching with PCRE's C-locale tables, R starting the subject at the previous match, and the
// cost bound (pcreCost.ts): windows, the budget counter and its diagnostics channel.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { hits } from './detectFixture';
import { loadRuleSources } from '../../src/detect/ruleLoader';
import { defaultDetectConfig } from '../../src/detect/detectConfig';
import { translatePcre, PcreMatch } from '../../src/detect/keywords/pcre';
import { InspectState } from '../../src/detect/signature';
import { pcreBudget, pcreWindow, PCRE_LINEAR_WINDOW, PCRE_MAX_WINDOW, type PcreBudgetEvent } from '../../src/detect/pcreCost';

const rule = (pcre: string, extra = ''): string => `alert tcp any any -> any any (pcre:"${pcre}"; ${extra}sid:1;)`;
const F = { i: false, s: false, m: false, x: false, E: false, A: false };

test('^ without m anchors at the start of the buffer (plain ^, not a lookbehind)', () => {
  assert.equal(hits(rule('/^abc/'), 'abcdef'), [1]);
  assert.equal(hits(rule('/^abc/'), 'xabc'), []);
  assert.equal(hits(rule('/^abc/'), 'x\nabc'), []);
  assert.equal(hits(rule('/^abc/m'), 'x\nabc'), [1]);
  // PCRE's multiline ^ follows \n only; JS's `m` would also take \r.
  assert.equal(hits(rule('/^abc/m'), 'x\rabc'), []);
  assert.equal(hits(rule('/\\Aabc/m'), 'x\nabc'), []);
  assert.is(translatePcre('^abc', F).source, '^abc');
});

test('R: the subject starts right after the previous match, so ^ anchors there', () => {
  const r = 'alert tcp any any -> any any (content:"GET "; pcre:"/^\\/adm/R"; sid:1;)';
  assert.equal(hits(r, 'GET /admin'), [1]);
  assert.equal(hits(r, 'GET x/admin'), []);
  // Without R, ^ is the buffer's start even after a content match.
  assert.equal(hits('alert tcp any any -> any any (content:"GET "; pcre:"/^\\/adm/"; sid:1;)', 'GET /admin'), []);
});

test('i: ASCII letters fold (also in classes and ranges), latin1 letters do not (PCRE C tables)', () => {
  assert.equal(hits(rule('/abc/i'), 'xABCx'), [1]);
  assert.equal(hits(rule('/[a-c]x[^q]/i'), 'BXQ'), []);
  assert.equal(hits(rule('/[a-c]x[^q]/i'), 'BXr'), [1]);
  assert.equal(hits(rule('/\\x41b/i'), 'aB'), [1]);
  assert.equal(hits(rule('/[[:upper:]]{3}/i'), 'abc'), [1]);
  assert.equal(hits(rule('/\\xe9t\\xe9/i'), Buffer.from([0xe9, 0x54, 0xe9])), [1]);
  assert.equal(hits(rule('/\\xe9t\\xe9/i'), Buffer.from([0xc9, 0x74, 0xc9])), []);
  // Spelled out, so no JS `i` flag: V8 can use its fast case-sensitive paths.
  const t = translatePcre('ab[c-e]', { ...F, i: true });
  assert.is(t.flags, 'g');
  assert.is(t.source, '[aA][bB][\\x63-\\x65\\x43-\\x45]');
  // A backreference must compare caselessly: JS's own `i` then.
  assert.is(translatePcre('(a)\\1', { ...F, i: true }).flags, 'gi');
});

test('$: end of buffer or before a final newline; the match ends where PCRE ends it', () => {
  assert.equal(hits(rule('/abc$/'), 'abc'), [1]);
  assert.equal(hits(rule('/abc$/'), 'abc\n'), [1]);
  assert.equal(hits(rule('/abc$/'), 'abc\n\n'), []);
  assert.equal(hits(rule('/abc$/'), 'abcx'), []);
  assert.equal(hits(rule('/abc$/E'), 'abc\n'), []);
  assert.equal(hits(rule('/abc$/m'), 'abc\nx'), [1]);
  assert.equal(hits(rule('/a\\nb\\Z/'), 'a\nb\n'), [1]);
  // The \n before the end is not part of the match: one byte of data is left after it.
  assert.equal(hits(rule('/abc$/', 'isdataat:1,relative; '), 'abc\n'), [1]);
  assert.equal(hits(rule('/abc$/', 'isdataat:!1,relative; '), 'abc\n'), []);
  assert.ok(translatePcre('abc$', F).dollarGroup);
  assert.ok(!translatePcre('(a$|b)c', F).dollarGroup);
});

test('cost model: windows from the pattern shape; exponential shapes skipped at load', () => {
  assert.is(pcreWindow({ anchored: true, unbounded: 1, backrefs: 0, factor: 1, det: 0 }), PCRE_MAX_WINDOW);
  assert.is(pcreWindow({ anchored: false, unbounded: 0, backrefs: 0, factor: 32, det: 0 }), PCRE_MAX_WINDOW);
  const w2 = pcreWindow({ anchored: false, unbounded: 1, backrefs: 0, factor: 1, det: 0 });
  const w3 = pcreWindow({ anchored: false, unbounded: 2, backrefs: 0, factor: 1, det: 0 });
  assert.ok(w3 < w2, `${w3} < ${w2}`);
  // Exponential for backtracking: V8's linear engine runs it, on PCRE_LINEAR_WINDOW bytes.
  let set = loadRuleSources([{ file: 'a.rules', text: rule('/(a+)+b/') }], defaultDetectConfig());
  const lin = set.signatures[0]!.buffers[0]!.items[0] as PcreMatch;
  assert.ok(lin.linear);
  assert.is(lin.window, PCRE_LINEAR_WINDOW);
  assert.equal(hits(rule('/(a+)+b/'), 'a'.repeat(2000)), []);
  assert.equal(hits(rule('/(a+)+b/'), 'a'.repeat(2000) + 'b'), [1]);
  // With a backreference the linear engine cannot: skipped with the reason.
  set = loadRuleSources([{ file: 'b.rules', text: rule('/(\\w+)+x\\1/') }], defaultDetectConfig());
  assert.is(set.signatures.length, 0);
  assert.match(set.skipped[0]!.reason, /nested unbounded repetition/);
});

test('over the window: first window bytes inspected, or no match when the end matters; counted once per pcre on the channel', () => {
  const cfg = defaultDetectConfig();
  const set = loadRuleSources([{ file: 'w.rules', text: 'alert tcp any any -> any any (pcre:"/a[^\\n]*b[^\\n]*c[^\\n]*d/"; sid:41;)' }], cfg);
  const m = set.signatures[0]!.buffers[0]!.items[0] as PcreMatch;
  const w = m.window;
  assert.ok(w < PCRE_MAX_WINDOW && w >= 64, `window ${w}`);
  const events: PcreBudgetEvent[] = [];
  const onEvent = (e: unknown): void => { events.push(e as PcreBudgetEvent); };
  subscribe('lateral:pcre-budget', onEvent);
  try {
    const before = pcreBudget.exceeded;
    const early = 'abcd' + 'x'.repeat(w * 2);
    const late = 'x'.repeat(w * 2) + 'abcd';
    assert.equal(hits('alert tcp any any -> any any (pcre:"/a[^\\n]*b[^\\n]*c[^\\n]*d/"; sid:41;)', early), [41]);
    assert.equal(hits('alert tcp any any -> any any (pcre:"/a[^\\n]*b[^\\n]*c[^\\n]*d/"; sid:41;)', late), []);
    assert.equal(hits('alert tcp any any -> any any (pcre:"/a[^\\n]*b[^\\n]*c[^\\n]*d$/"; sid:42;)', early), []);
    assert.equal(hits('alert tcp any any -> any any (pcre:"/a[^\\n]*b[^\\n]*c[^\\n]*d/"; sid:43;)', 'abcd'), [43]);
    assert.is(pcreBudget.exceeded - before, 3);
    // Each hits() builds a new engine, so three pcres exceeded once each: three events.
    assert.equal(events.map((e) => e.sid), [41, 41, 42]);
    assert.ok(events.every((e) => e.window === w && e.length > w));
  } finally {
    unsubscribe('lateral:pcre-budget', onEvent);
  }
  // One pcre, many buffers: counted each time, reported once.
  subscribe('lateral:pcre-budget', onEvent);
  try {
    const n = events.length;
    const big = Buffer.from('y'.repeat(w + 10), 'latin1');
    const st = new InspectState();
    for (let k = 0; k < 3; k++) assert.ok(!m.exec(big, 0, 0, st));
    assert.is(m.exceeded, 3);
    assert.is(events.length - n, 1);
    assert.is(events[n]!.sid, 41);
  } finally {
    unsubscribe('lateral:pcre-budget', onEvent);
  }
});

test.run();
