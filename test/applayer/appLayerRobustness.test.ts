// Bad input never throws: corpus streams with seeded random byte flips, truncations and
// random splits go through detection and every parser; only counters may change.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AppLayerCounters } from '../../src/applayer/appLayerCounters';
import { AppLayerState } from '../../src/applayer/appLayerState';
import { appLayerBuffer } from '../../src/applayer/appLayerBuffer';
import { httpEve, tlsEve, sshEve, dnsEve } from '../../src/applayer/appLayerEve';
import { corpusPath } from '../support/corpus';
import { readCapture } from './pcapStreams';

// xorshift32: deterministic, so a failure reproduces.
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

const FILES = ['nmap-nse-http.pcap', 'dvwa-sqli.pcapng', 'heartbleed-success.pcap', 'ssh-password-guessing.pcap',
  'docker-api-create-attach.pcap', 'sqli-chr-body.pcap', 'redis-set.pcap', 'postgres-login-fail.pcap'];
const BUFFERS = ['http.uri', 'http.header', 'http.header_names', 'http.start', 'http.host', 'http.request_body',
  'http.response_body', 'http.cookie', 'tls.sni', 'tls.cert_subject', 'ssh.software', 'dns.query'];

test('mutated corpus streams: no exception, buffers and EVE still readable', () => {
  const counters = new AppLayerCounters();
  let runs = 0;
  for (const file of FILES) {
    const cap = readCapture(corpusPath('pcaps', file));
    for (let seed = 1; seed <= 12; seed++) {
      const r = rng(seed * 7919 + file.length);
      for (const c of cap.connections) {
        const st = new AppLayerState(true, counters);
        for (const ch of c.chunks) {
          const d = Uint8Array.from(ch.data);
          const flips = Math.floor(r() * 4);
          for (let k = 0; k < flips && d.length; k++) d[Math.floor(r() * d.length)] = Math.floor(r() * 256);
          const cut = r() < 0.1 ? Math.floor(r() * d.length) : d.length;
          let p = 0;
          while (p < cut) {
            const n = 1 + Math.floor(r() * 700);
            st.feed(ch.toServer, d, p, Math.min(cut, p + n));
            p += n;
          }
          if (r() < 0.02) st.gap(ch.toServer);
        }
        st.close(true);
        st.close(false);
        for (const b of BUFFERS) for (const dir of [true, false]) for (let tx = 0; tx < 3; tx++) appLayerBuffer(st, b, dir, tx);
        for (const t of st.http?.transactions ?? []) httpEve(t);
        if (st.tls) tlsEve(st.tls);
        if (st.ssh) sshEve(st.ssh);
        for (const m of st.dns) dnsEve(m.message);
        runs++;
      }
    }
  }
  assert.ok(runs > 100);
});

test('random datagrams into a UDP flow: no exception, malformed DNS counted', () => {
  const counters = new AppLayerCounters();
  const cap = readCapture(corpusPath('pcaps', 'dns-null-record.pcap'));
  const r = rng(42);
  for (let i = 0; i < 2000; i++) {
    const st = new AppLayerState(false, counters);
    st.feed(true, cap.datagrams[0]!.data); // detected as DNS
    const d = Uint8Array.from(cap.datagrams[1]!.data);
    for (let k = 0; k < 1 + Math.floor(r() * 6); k++) d[Math.floor(r() * d.length)] = Math.floor(r() * 256);
    st.feed(false, d, 0, Math.floor(r() * (d.length + 1)));
  }
  assert.ok(counters.dnsMalformed > 0);
  assert.ok(counters.dnsMessages >= 2000);
});

test.run();
