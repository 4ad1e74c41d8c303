// PassiveCapture on a real lab: a bridge with two network namespaces on veth ports, traffic
// between them (ping, UDP from node), frames checked byte for byte. Also the errors (missing
// interface, bad filter, bad options) and kernel-drop accounting when the event loop stalls.
// The lab is torn down in a finally, even when an assertion fails. Needs root.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { PassiveCapture } from '../../src/capture/passiveCapture';
import { CaptureBatch } from '../../src/capture/captureBatch';
import { LateralError } from '../../src/errors';
import { EvidenceRecorder } from '../../src/output/evidenceRecorder';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';

const test = suite('passiveCapture');

interface Lab {
  prefix: string;
  bridge: string;
  nsA: string;
  nsB: string;
  ipA: string;
  ipB: string;
}

function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.error?.message}`);
  return r.stdout;
}

function shQuiet(cmd: string, args: string[]): void {
  spawnSync(cmd, args, { stdio: 'ignore' });
}

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args);
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function ruleArgs(lab: Lab): string[] {
  return ['FORWARD', '-i', lab.bridge, '-o', lab.bridge, '-m', 'comment', '--comment', `lateral-test:${lab.prefix}`, '-j', 'ACCEPT'];
}

function makeLab(): Lab {
  const prefix = 'ob2' + randomBytes(2).toString('hex');
  const lab: Lab = { prefix, bridge: `${prefix}br`, nsA: `${prefix}-a`, nsB: `${prefix}-b`, ipA: '10.77.0.1', ipB: '10.77.0.2' };
  try {
    sh('ip', ['link', 'add', lab.bridge, 'type', 'bridge']);
    // No IPv6 on the bridge itself: its own router solicitations would be extra frames.
    shQuiet('sysctl', ['-qw', `net.ipv6.conf.${lab.bridge}.disable_ipv6=1`]);
    sh('ip', ['link', 'set', lab.bridge, 'up']);
    for (const [side, ns, ip] of [['a', lab.nsA, lab.ipA], ['b', lab.nsB, lab.ipB]] as const) {
      sh('ip', ['netns', 'add', ns]);
      // No IPv6 either: router solicitations and MLD reports would add frames to the counts.
      sh('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
      sh('ip', ['link', 'add', `${prefix}${side}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      sh('ip', ['link', 'set', `${prefix}${side}`, 'master', lab.bridge, 'up']);
      sh('ip', ['-n', ns, 'addr', 'add', `${ip}/24`, 'dev', 'eth0']);
      sh('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
      sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    }
    // Docker may have set FORWARD policy DROP, and br_netfilter sends bridged frames there.
    sh('iptables', ['-I', ...ruleArgs(lab).slice(0, 1), '1', ...ruleArgs(lab).slice(1)]);
  } catch (err) {
    destroyLab(lab);
    throw err;
  }
  return lab;
}

function destroyLab(lab: Lab): void {
  shQuiet('iptables', ['-D', ...ruleArgs(lab)]);
  shQuiet('ip', ['netns', 'del', lab.nsA]);
  shQuiet('ip', ['netns', 'del', lab.nsB]);
  shQuiet('ip', ['link', 'del', `${lab.prefix}a`]);
  shQuiet('ip', ['link', 'del', `${lab.prefix}b`]);
  shQuiet('ip', ['link', 'del', lab.bridge]);
}

/** Sends `count` UDP datagrams of `payload` from a namespace, with node's dgram. */
function sendUdp(ns: string, dst: string, port: number, payload: Buffer, count: number): Promise<{ code: number; stdout: string; stderr: string }> {
  const script = `
    const s = require('dgram').createSocket('udp4');
    const p = Buffer.from(process.argv[1], 'hex');
    let left = ${count};
    const next = () => { if (left-- <= 0) return s.close(); s.send(p, ${port}, '${dst}', next); };
    next();`;
  return run('ip', ['netns', 'exec', ns, process.execPath, '-e', script, payload.toString('hex')]);
}

interface Frame {
  bytes: Buffer;
  tsSec: number;
  tsUsec: number;
  wireLength: number;
}

function collect(into: Frame[]): (b: CaptureBatch) => void {
  return (b) => {
    assert.is(b.linkType, 1);
    for (let i = 0; i < b.count; i++) {
      into.push({ bytes: Buffer.from(b.frame(i)), tsSec: b.tsSec[i]!, tsUsec: b.tsUsec[i]!, wireLength: b.wireLength[i]! });
    }
  };
}

const ETH = 14;
function isIpv4(f: Buffer): boolean {
  return f.length > ETH + 20 && f.readUInt16BE(12) === 0x0800;
}
function icmpType(f: Buffer): number {
  if (!isIpv4(f) || f[ETH + 9] !== 1) return -1;
  return f[ETH + ((f[ETH]! & 15) * 4)]!;
}

let lab: Lab | null = null;

test.before(() => {
  lab = makeLab();
});

test.after(() => {
  if (lab) destroyLab(lab);
});

test('a missing interface and bad options are usage errors naming the interface', () => {
  for (const opts of [{ interface: 'ob2nosuchif' }, { interface: 'bad name;rm' }, { interface: lab!.bridge, arenaBytes: 100 }, { interface: lab!.bridge, maxBatch: 0 }]) {
    try {
      new PassiveCapture(opts, () => undefined).close();
      assert.unreachable(`accepted ${JSON.stringify(opts)}`);
    } catch (err) {
      assert.instance(err, LateralError);
      assert.is((err as LateralError).code, 'LATERAL_ERR_USAGE');
      assert.ok((err as Error).message.includes(opts.interface.includes(' ') ? 'bad name' : opts.interface), (err as Error).message);
    }
  }
});

test('a bad BPF filter is a usage error naming the interface and the filter', () => {
  try {
    new PassiveCapture({ interface: lab!.bridge, filter: 'tcp and and' }, () => undefined);
    assert.unreachable('accepted a bad filter');
  } catch (err) {
    assert.instance(err, LateralError);
    assert.is((err as LateralError).code, 'LATERAL_ERR_USAGE');
    assert.match((err as Error).message, lab!.bridge);
    assert.match((err as Error).message, 'tcp and and');
  }
});

test('ping across the bridge: exactly 5 echo requests and 5 replies, Ethernet, stamped now', async () => {
  const frames: Frame[] = [];
  const cap = new PassiveCapture({ interface: lab!.bridge, filter: 'icmp' }, collect(frames));
  try {
    assert.is(cap.linkType, 1);
    assert.is(cap.linkTypeName, 'ETHERNET');
    const before = Date.now() / 1000;
    const r = await run('ip', ['netns', 'exec', lab!.nsA, 'busybox', 'ping', '-c', '5', '-i', '0.2', lab!.ipB]);
    assert.is(r.code, 0, r.stderr);
    await sleep(300);
    const after = Date.now() / 1000;
    assert.is(frames.filter((f) => icmpType(f.bytes) === 8).length, 5);
    assert.is(frames.filter((f) => icmpType(f.bytes) === 0).length, 5);
    assert.is(frames.length, 10, 'the BPF filter let only ICMP through');
    for (const f of frames) {
      const t = f.tsSec + f.tsUsec / 1e6;
      assert.ok(t >= before - 0.01 && t <= after + 0.01, `timestamp ${t} outside [${before}, ${after}]`);
      assert.ok(f.tsUsec < 1_000_000);
      assert.is(f.wireLength, f.bytes.length);
      // busybox ping: 56 bytes of data, 64 of ICMP, 84 of IP, 98 on Ethernet.
      assert.is(f.bytes.length, 98);
    }
    const s = cap.stats();
    assert.is(s.received, 10);
    assert.is(s.truncated, 0);
    assert.is(s.kernelDropped, null, 'unknown with a filter');
  } finally {
    cap.close();
  }
});

test('a known UDP payload arrives byte for byte; no drops when the loop keeps up', async () => {
  const frames: Frame[] = [];
  const cap = new PassiveCapture({ interface: lab!.bridge }, collect(frames));
  const payload = Buffer.concat([Buffer.from('lateral-obs2 '), randomBytes(200)]);
  try {
    const r = await sendUdp(lab!.nsA, lab!.ipB, 9999, payload, 3);
    assert.is(r.code, 0, r.stderr);
    await sleep(300);
    const udp = frames.filter((f) => isIpv4(f.bytes) && f.bytes[ETH + 9] === 17 && f.bytes.readUInt16BE(ETH + 20 + 2) === 9999);
    assert.is(udp.length, 3);
    for (const f of udp) {
      assert.equal([...f.bytes.subarray(ETH + 12, ETH + 16)], [10, 77, 0, 1]);
      assert.equal([...f.bytes.subarray(ETH + 16, ETH + 20)], [10, 77, 0, 2]);
      assert.is(f.bytes.readUInt16BE(ETH + 20 + 4), 8 + payload.length);
      assert.ok(f.bytes.subarray(ETH + 28).equals(payload), 'payload bytes differ');
    }
    const s = cap.stats();
    assert.is(s.received, frames.length);
    assert.ok(s.batches >= 1 && s.batches <= s.received);
    assert.is(s.kernelDropped, 0);
    assert.is(s.interfaceFrames, s.received);
  } finally {
    cap.close();
  }
  const n = frames.length;
  await sendUdp(lab!.nsA, lab!.ipB, 9999, payload, 1);
  await sleep(100);
  assert.is(frames.length, n, 'nothing delivered after close');
});

test('a stalled event loop: the kernel drops are counted and frames come in batches', async () => {
  const frames: number[] = [];
  let biggest = 0;
  const cap = new PassiveCapture({ interface: lab!.bridge, kernelBufferBytes: 1 << 20, maxBatch: 8 }, (b) => {
    biggest = Math.max(biggest, b.count);
    for (let i = 0; i < b.count; i++) frames.push(b.length[i]!);
  });
  try {
    const sender = sendUdp(lab!.nsA, lab!.ipB, 9999, Buffer.alloc(1000, 0x41), 20000);
    await sleep(200);
    // Stall the loop while the flood goes on: the small ring overflows.
    const t0 = Date.now();
    while (Date.now() - t0 < 1500) { /* busy */ }
    const r = await sender;
    assert.is(r.code, 0, r.stderr);
    await sleep(500);
    const s = cap.stats();
    assert.ok(s.kernelDropped !== null && s.kernelDropped > 0, `kernelDropped ${s.kernelDropped}`);
    assert.is(s.received + s.kernelDropped!, s.interfaceFrames!);
    assert.ok(s.received < 20000);
    assert.ok(biggest > 1 && biggest <= 8, `largest batch ${biggest}`);
    assert.is(frames.length, s.received);
  } finally {
    cap.close();
  }
});

test('captured frames go into an EvidenceRecorder and tcpdump reads them back as ICMP', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lateral-obs2-cap-ev-'));
  const ev = new EvidenceRecorder({ dir, linkType: 1, maxPacketsPerFlow: 8 });
  const copies: Buffer[] = [];
  let last = { sec: 0, usec: 0 };
  const cap = new PassiveCapture({ interface: lab!.bridge, filter: 'icmp' }, (b) => {
    for (let i = 0; i < b.count; i++) {
      // One flow for the whole ping: the recorder copies out of the reused arena.
      ev.record(1, b.data, b.offset[i]!, b.length[i]!, b.wireLength[i]!, b.tsSec[i]!, b.tsUsec[i]!);
      copies.push(Buffer.from(b.frame(i)));
      last = { sec: b.tsSec[i]!, usec: b.tsUsec[i]! };
    }
  });
  try {
    const r = await run('ip', ['netns', 'exec', lab!.nsA, 'busybox', 'ping', '-c', '3', '-i', '0.2', lab!.ipB]);
    assert.is(r.code, 0, r.stderr);
    await sleep(300);
    const name = ev.alert(1, 9000001, last.sec, last.usec);
    assert.ok(name);
    await ev.flush();
    const out = spawnSync('tcpdump', ['-r', path.join(dir, name!), '-n', '-xx'], { encoding: 'utf8' });
    assert.is(out.status, 0, out.stderr);
    assert.is(out.stdout.split('\n').filter((l) => / ICMP echo request/.test(l)).length, 3);
    assert.is(out.stdout.split('\n').filter((l) => / ICMP echo reply/.test(l)).length, 3);
    const hex = out.stdout.split('\n').filter((l) => /^\s+0x/.test(l)).map((l) => l.replace(/^\s*0x[0-9a-f]+:\s*/, '').replace(/\s+/g, '')).join('');
    assert.is(hex, Buffer.concat(copies).toString('hex'));
  } finally {
    cap.close();
    await ev.close();
    fs.rmSync(dir, { recursive: true });
  }
});

test('TCP (busybox httpd, wget): handshake seen once, the served file reassembles from the frames', async () => {
  const www = fs.mkdtempSync(path.join(os.tmpdir(), 'lateral-obs2-www-'));
  const body = Buffer.from(Array.from({ length: 40000 }, (_, i) => `line ${i}\n`).join(''));
  fs.writeFileSync(path.join(www, 'f.txt'), body);
  const frames: Frame[] = [];
  const cap = new PassiveCapture({ interface: lab!.bridge, filter: 'tcp port 8080' }, collect(frames));
  const httpd = spawn('ip', ['netns', 'exec', lab!.nsB, 'busybox', 'httpd', '-f', '-p', '8080', '-h', www], { stdio: 'ignore' });
  try {
    await sleep(300);
    const r = await run('ip', ['netns', 'exec', lab!.nsA, 'busybox', 'wget', '-q', '-O', '/dev/null', `http://${lab!.ipB}:8080/f.txt`]);
    assert.is(r.code, 0, r.stderr);
    await sleep(300);
    const tcp = frames.filter((f) => isIpv4(f.bytes) && f.bytes[ETH + 9] === 6).map((f) => {
      const ihl = (f.bytes[ETH]! & 15) * 4;
      const t = ETH + ihl;
      const doff = (f.bytes[t + 12]! >> 4) * 4;
      const ipEnd = ETH + f.bytes.readUInt16BE(ETH + 2);
      return { sport: f.bytes.readUInt16BE(t), flags: f.bytes[t + 13]!, seq: f.bytes.readUInt32BE(t + 4), payload: f.bytes.subarray(t + doff, ipEnd) };
    });
    assert.is(tcp.filter((s) => s.flags === 0x02).length, 1, 'one SYN');
    assert.is(tcp.filter((s) => s.flags === 0x12).length, 1, 'one SYN-ACK');
    assert.ok(tcp.some((s) => s.flags & 0x01), 'a FIN');
    // Server to client, in sequence order, retransmissions skipped.
    const fromServer = tcp.filter((s) => s.sport === 8080 && s.payload.length > 0).sort((a, b) => a.seq - b.seq);
    const parts: Buffer[] = [];
    let next = fromServer[0]!.seq;
    for (const s of fromServer) {
      if (s.seq + s.payload.length <= next) continue;
      parts.push(s.payload.subarray(next - s.seq));
      next = s.seq + s.payload.length;
    }
    const stream = Buffer.concat(parts);
    const headerEnd = stream.indexOf('\r\n\r\n');
    assert.ok(stream.subarray(0, headerEnd).toString().startsWith('HTTP/1.'));
    assert.ok(stream.subarray(headerEnd + 4).equals(body), 'the body reassembled from captured frames differs');
    const st = cap.stats();
    assert.is(st.truncated, 0);
    assert.is(st.received, frames.length);
  } finally {
    cap.close();
    if (httpd.pid) process.kill(httpd.pid);
    fs.rmSync(www, { recursive: true });
  }
});

test('refuses to run in a worker thread, with a usage error', async () => {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { PassiveCapture } = require(workerData.module);
    try { new PassiveCapture({ interface: workerData.iface }, () => undefined); parentPort.postMessage('opened'); }
    catch (e) { parentPort.postMessage(e.code + ' ' + e.message); }`;
  const w = new Worker(code, { eval: true, workerData: { module: require.resolve('../../src/capture/passiveCapture'), iface: lab!.bridge } });
  const msg = await new Promise<string>((resolve) => w.once('message', resolve));
  await w.terminate();
  assert.match(msg, /^LATERAL_ERR_USAGE .*main thread/);
  assert.match(msg, lab!.bridge);
});

test('without CAP_NET_RAW the kernel refuses: a kernel error naming the interface', () => {
  const script = `
    const { PassiveCapture } = require(${JSON.stringify(require.resolve('../../src/capture/passiveCapture'))});
    try { new PassiveCapture({ interface: 'lo' }, () => undefined).close(); console.log('opened'); }
    catch (e) { console.log(e.code + ' ' + e.message); }`;
  const r = spawnSync('runuser', ['-u', 'nobody', '--', process.execPath, '-e', script], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^LATERAL_ERR_KERNEL interface lo: cannot capture: .*CAP_NET_RAW/);
});

test.run();
