// SSH identification strings from the corpus (tshark `-e ssh.protocol`: client
// "SSH-2.0-OpenSSH_6.2", server "SSH-2.0-OpenSSH_6.7p1 Debian-3") and crafted cases.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sshEve } from '../../src/applayer/appLayerEve';
import { AppLayerCounters } from '../../src/applayer/appLayerCounters';
import { parseSshBanner, SshParser } from '../../src/applayer/sshParser';
import { corpusPath } from '../support/corpus';
import { readCapture } from './pcapStreams';

const S = (b: Uint8Array | null | undefined): string | null => (b ? Buffer.from(b).toString('latin1') : null);

test('corpus ssh-password-guessing: every session has both banners', () => {
  const cap = readCapture(corpusPath('pcaps', 'ssh-password-guessing.pcap'));
  const sessions = cap.connections.filter((c) => c.chunks.length > 0);
  assert.is(sessions.length, 11); // tshark: 22 ssh.protocol packets, two per session
  for (const c of sessions) {
    const p = new SshParser(new AppLayerCounters());
    for (const ch of c.chunks) p.feed(ch.toServer, ch.data);
    assert.is(S(p.banner(true)?.proto), '2.0');
    assert.is(S(p.banner(true)?.software), 'OpenSSH_6.2');
    assert.is(S(p.banner(false)?.software), 'OpenSSH_6.7p1');
    assert.is(S(p.banner(false)?.comment), 'Debian-3');
    assert.equal(sshEve(p), {
      client: { proto_version: '2.0', software_version: 'OpenSSH_6.2' },
      server: { proto_version: '2.0', software_version: 'OpenSSH_6.7p1' },
    });
  }
});

test('lines before the banner are skipped; split banner; non-banner', () => {
  const p = new SshParser(new AppLayerCounters());
  const s = Buffer.from('hello there\r\nSSH-1.99-Cisco-1.25\r\n');
  for (let i = 0; i < s.length; i++) p.feed(false, s, i, i + 1);
  assert.is(S(p.banner(false)?.proto), '1.99');
  assert.is(S(p.banner(false)?.software), 'Cisco-1.25');
  assert.is(parseSshBanner(Buffer.from('SSH2.0')), null);
});

test('endless line without LF is bounded and counted', () => {
  const c = new AppLayerCounters();
  const p = new SshParser(c);
  p.feed(true, Buffer.alloc(5000, 0x41));
  assert.is(c.sshMalformed, 1);
  assert.is(p.banner(true), null);
});

test.run();
