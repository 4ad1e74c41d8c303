// http.uri normalisation cases, each with the result libhtp (IDS personality, as Suricata 7
// configures it) gives; see src/applayer/normalizeHttpUri.ts for the rules followed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { normalizeHostname, normalizeHttpUri, parseHttpUri } from '../../src/applayer/normalizeHttpUri';

const n = (s: string): string => Buffer.from(normalizeHttpUri(Buffer.from(s, 'latin1'))).toString('latin1');

test('percent-decoding in path and query; + kept', () => {
  assert.is(n('/a%20b/c%2Ed?x=%27a%27+b'), "/a b/c.d?x='a'+b");
  assert.is(n('/dvwa/?id=1%27+UNION+SELECT+NULL%2C+version%28%29+%23&S=1'), "/dvwa/?id=1'+UNION+SELECT+NULL,+version()+#&S=1");
});

test('invalid escapes are preserved', () => {
  assert.is(n('/a%zzb%4'), '/a%zzb%4');
  assert.is(n('/q?a=%g1%'), '/q?a=%g1%');
  assert.is(n('/%u12'), '/%u12');
});

test('%u decoding with best fit (fullwidth) and replacement', () => {
  assert.is(n('/%u0061dmin'), '/admin');
  assert.is(n('/%uFF41dmin'), '/admin'); // U+FF41 FULLWIDTH LATIN SMALL LETTER A
  assert.is(n('/%u4e2d'), '/?');
});

test('dot segments, slashes compressed, backslashes converted, %2f decoded', () => {
  assert.is(n('/a/./b/../c'), '/a/c');
  assert.is(n('/a//b///c'), '/a/b/c');
  assert.is(n('/a\\b\\..\\c'), '/a/c');
  assert.is(n('/a%2fb%5c..%5cc'), '/a/c');
  assert.is(n('/../../etc/passwd'), '/etc/passwd');
  assert.is(n('/a/b/..'), '/a/');
  assert.is(n('/a/.'), '/a/');
  assert.is(n('/%2e%2e/%2e%2e/etc/passwd'), '/etc/passwd');
});

test('dot segments are not removed from the query', () => {
  assert.is(n('/x?f=../../etc/passwd'), '/x?f=../../etc/passwd');
});

test('UTF-8 in the path folds to one byte by best fit', () => {
  assert.is(n('/caf%C3%A9'), '/caf\u00e9'); // U+00E9 -> 0xE9
  assert.is(n('/%EF%BC%A1'), '/A'); // U+FF21 fullwidth A
  assert.is(n('/%C0%AF'), '/\u00c0\u00af'); // overlong: invalid UTF-8, bytes kept
});

test('absolute URI: scheme and authority are not part of http.uri; host is', () => {
  assert.is(n('http://Example.COM:8080/a/../b?q=1#frag'), '/b?q=1#frag');
  const u = parseHttpUri(Buffer.from('http://user:pw@Example.COM:8080/x'));
  assert.is(Buffer.from(u.hostname!).toString(), 'Example.COM');
  assert.is(Buffer.from(u.port!).toString(), '8080');
  assert.is(Buffer.from(normalizeHostname(u.hostname!)).toString(), 'example.com');
});

test('case is kept, NUL bytes are kept', () => {
  assert.is(n('/Admin/%41'), '/Admin/A');
  assert.is(n('/a%00b'), '/a\u0000b');
});

test.run();
