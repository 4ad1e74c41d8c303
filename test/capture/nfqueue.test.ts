// NfQueue against the real kernel: a namespace lab, our rules, and a queue bound in this
// process. Checks the batch metadata, drop and bypass verdicts, GSO, handler failures,
// kernel errors, and loading in a worker thread.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { LateralError } from '../../src/errors';
import { Firewall } from '../../src/capture/firewall';
import { META_STRIDE, SkbInfo } from '../../src/capture/native';
import { NfQueue } from '../../src/capture/nfqueue';
import { readNfqueueProc, uninspectedPackets } from '../../src/capture/nfqueueProc';
import type { PacketBatch } from '../../src/capture/packetBatch';
import { repoRoot } from '../support/corpus';
import { curl, inNs, LabLayout, labDown, labUp, redis, uniquePrefix, uniqueQueue } from '../live/labHarness';

const REPEAT = 0x100000;
const BYPASS = 0x200000;
const name = uniquePrefix('nfq');
const instance = `t${name}`;
let lab: LabLayout;
let queueNo = 0;
let queue: NfQueue | undefined;
let firewall: Firewall | undefined;

const nfq = suite('NfQueue (live kernel)');

nfq.before(async () => {
  lab = await labUp(name);
});

nfq.after.each(() => {
  firewall?.remove();
  firewall = undefined;
  queue?.close();
  queue = undefined;
});

nfq.after(async () => {
  await labDown(name);
});

function open(handler: (b: PacketBatch) => void, extra: Partial<ConstructorParameters<typeof NfQueue>[0]> = {}): NfQueue {
  queueNo = uniqueQueue();
  queue = new NfQueue({ queue: queueNo, repeatMark: REPEAT, bypassMark: BYPASS, failOpen: true, ...extra });
  queue.start(handler);
  firewall = new Firewall({
    bridges: [lab.bridge],
    firstQueue: queueNo,
    lastQueue: queueNo,
    queueBypass: false,
    repeatMark: REPEAT,
    bypassMark: BYPASS,
    instance,
    hook: 'FORWARD',
  });
  firewall.install();
  return queue;
}

const ifindex = (dev: string): number => Number(readFileSync(`/sys/class/net/${dev}/ifindex`, 'utf8'));
const ipBytes = (ip: string): number[] => ip.split('.').map(Number);

nfq('a batch carries ids, bridge ports, hw protocol and the IPv4 packet in the arena', async () => {
  const rows: number[][] = [];
  const heads: number[][] = [];
  const q = open((b) => {
    for (let i = 0; i < b.count; i++) {
      rows.push(Array.from(b.meta.subarray(i * META_STRIDE, (i + 1) * META_STRIDE)));
      const o = b.offset(i);
      heads.push(Array.from(b.data.subarray(o, o + 20)));
      assert.is(b.ids[i], b.meta[i * META_STRIDE]);
      assert.is(b.marks[i], (b.mark(i) | REPEAT) >>> 0, 'accept preset carries the repeat mark');
    }
  });
  const r = await curl(lab);
  assert.is(r.code, 0, r.stderr);
  assert.ok(rows.length >= 5, `saw ${rows.length} packets`);
  // The lab also speaks IPv6 (neighbour discovery may cross the bridge): take the SYN.
  const k = rows.findIndex((r) => r[1] === 0x0800);
  assert.ok(k >= 0, 'an IPv4 packet was queued');
  const first = rows[k]!;
  const head = heads[k]!;
  assert.is(first[1], 0x0800, 'hw protocol IPv4');
  assert.is(head[0]! >> 4, 4, 'payload starts at the IPv4 header');
  assert.is(head[9], 6, 'TCP');
  assert.equal(head.slice(12, 16), ipBytes(lab.namespaces.attacker.ip));
  assert.equal(head.slice(16, 20), ipBytes(lab.namespaces.web.ip));
  assert.is(first[3], ifindex(lab.bridge), 'in dev is the bridge');
  assert.is(first[4], ifindex(lab.bridge), 'out dev is the bridge');
  assert.is(first[5], ifindex(lab.namespaces.attacker.hostVeth), 'physin is the attacker port');
  assert.is(first[6], ifindex(lab.namespaces.web.hostVeth), 'physout is the web port');
  assert.is(first[2]! & REPEAT, 0, 'queued packets do not carry the repeat mark');
  // Ids rise: the kernel numbers packets per queue in order.
  for (let i = 1; i < rows.length; i++) assert.ok(rows[i]![0]! > rows[i - 1]![0]!);
  const s = q.stats();
  assert.is(s.packets, rows.length);
  assert.is(s.verdicts, rows.length);
  assert.is(s.enobufs, 0);
  assert.is(s.netlinkErrors, 0, `lastErrno ${s.lastErrno}`);
});

nfq('drop verdicts stop Redis while HTTP still passes', async () => {
  let dropped = 0;
  open((b) => {
    for (let i = 0; i < b.count; i++) {
      const o = b.offset(i);
      const ihl = (b.data[o]! & 0x0f) * 4;
      const dport = (b.data[o + ihl + 2]! << 8) | b.data[o + ihl + 3]!;
      if (b.data[o + 9] === 6 && dport === 6379) {
        b.drop(i);
        dropped++;
      }
    }
  });
  assert.is((await curl(lab)).code, 0);
  const ping = await redis(lab, 'PING');
  assert.is.not(ping.stdout.trim(), 'PONG');
  assert.ok(dropped >= 1, 'the SYN to 6379 was seen and dropped');
});

nfq('bypass marks the connection: only its first packet is queued', async () => {
  let seen = 0;
  open((b) => {
    for (let i = 0; i < b.count; i++) {
      if (b.hwProtocol(i) === 0x0800) seen++; // IPv6 neighbour discovery is not this flow
      b.bypass(i);
    }
  });
  const r = await curl(lab);
  assert.is(r.code, 0, r.stderr);
  // SYN: bypass bit -> CONNMARK --save-mark in mangle -> every later packet of the flow
  // (both directions) skips the queue. A SYN retransmit could add one.
  assert.ok(seen >= 1 && seen <= 2, `queued ${seen} packets of a bypassed flow`);
  seen = 0;
  assert.is((await curl(lab)).code, 0);
  assert.ok(seen >= 1 && seen <= 2, 'a new connection is queued again, once');
});

nfq('GSO is on by default: packets larger than the MTU arrive whole', async () => {
  const www = `/run/lateral-lab/${name}/www`;
  writeFileSync(path.join(www, 'big.bin'), Buffer.alloc(4 << 20, 0x61));
  let big = 0;
  let gso = 0;
  let max = 0;
  open((b) => {
    for (let i = 0; i < b.count; i++) {
      const len = b.origLen(i);
      if (len > max) max = len;
      if (len > 1500) big++;
      if ((b.skbInfo(i) & SkbInfo.GSO) !== 0) gso++;
      assert.is(b.capLen(i), len, 'whole packet copied (copy range 65535)');
    }
  });
  const r = await inNs(lab.namespaces.attacker.netns, 'curl', ['-s', '-o', '/dev/null', '-w', '%{size_download}', '--max-time', '10', `http://${lab.services.http}/big.bin`], 20000);
  assert.is(r.stdout, String(4 << 20));
  assert.ok(big > 0 && gso > 0, `largest packet ${max} bytes, ${gso} with NFQA_SKB_GSO`);
  const s = queue!.stats();
  // Multi-packet batches were answered with NFQNL_MSG_VERDICT_BATCH, and the kernel took them.
  if (s.maxBatch > 1) assert.ok(s.batchVerdictMessages > 0 && s.verdictMessages < s.verdicts, JSON.stringify(s));
  assert.is(s.netlinkErrors, 0);
});

nfq('a stalled handler under FAIL_OPEN: traffic passes and the uninspected packets are counted', async () => {
  const www = `/run/lateral-lab/${name}/www`;
  writeFileSync(path.join(www, 'stall.bin'), Buffer.alloc(2 << 20, 0x62));
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  const q = open(
    () => {
      Atomics.wait(sleeper, 0, 0, 20); // a slow regex, a GC pause: the queue fills up
    },
    { maxLen: 4, failOpen: true },
  );
  const r = await inNs(lab.namespaces.attacker.netns, 'curl', ['-s', '-o', '/dev/null', '-w', '%{size_download}', '--max-time', '20', `http://${lab.services.http}/stall.bin`], 30000);
  assert.is(r.stdout, String(2 << 20), 'the transfer completed despite the stall');
  const proc = readNfqueueProc().filter((e) => e.queue === queueNo);
  assert.is(proc.length, 1);
  assert.is(proc[0]!.queueDropped, 0, 'FAIL_OPEN: nothing counted as dropped');
  const hits = firewall!.queueRuleHits();
  const seen = q.stats().packets;
  const uninspected = uninspectedPackets(hits, seen, proc);
  assert.ok(seen > 0, 'some packets were inspected');
  assert.ok(uninspected > 0, `hits=${hits} seen=${seen}: the packets that passed uninspected show up`);
});

nfq('a socket overrun is counted on both sides: ENOBUFS in the addon, user_dropped in the kernel', async () => {
  const www = `/run/lateral-lab/${name}/www`;
  writeFileSync(path.join(www, 'overrun.bin'), Buffer.alloc(2 << 20, 0x63));
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  // A receive buffer too small for one GSO packet, and a handler that stalls.
  const q = open(() => void Atomics.wait(sleeper, 0, 0, 20), { rcvBuf: 4096, failOpen: false });
  await inNs(lab.namespaces.attacker.netns, 'curl', ['-s', '-o', '/dev/null', '--max-time', '4', `http://${lab.services.http}/overrun.bin`], 15000);
  const proc = readNfqueueProc().filter((e) => e.queue === queueNo);
  const s = q.stats();
  assert.ok(proc[0]!.userDropped > 0, `kernel user_dropped=${proc[0]!.userDropped}`);
  assert.ok(s.enobufs > 0, `addon enobufs=${s.enobufs}`);
  // Reading went on after the overrun (libuv stops a poll handle on EPOLLERR; we restart it).
  const before = s.packets;
  const again = await curl(lab);
  assert.is(again.code, 0, 'traffic is inspected and passes again once the stall is over');
  assert.ok(q.stats().packets > before, 'still reading after ENOBUFS');
});

nfq('a throwing handler is counted and its batch still accepted', async () => {
  const q = open(() => {
    throw new Error('engine bug');
  });
  const r = await curl(lab);
  assert.is(r.code, 0, 'traffic passes despite the failing handler');
  assert.ok(q.stats().handlerErrors >= 1);
});

nfq('onVerdictsSent: each batch reported once, after its handler, with its size and receipt time', async () => {
  const handled: Array<[number, number, number]> = []; // [count, handler start, handler end]
  const sent: Array<[number, number, number]> = []; // [count, receivedAt, callback time]
  const q = open(
    (b) => {
      const t = performance.now();
      handled.push([b.count, t, performance.now()]);
    },
    { onVerdictsSent: (count, receivedAt) => sent.push([count, receivedAt, performance.now()]) },
  );
  assert.is((await curl(lab)).code, 0);
  assert.ok(sent.length >= 1);
  assert.is(sent.length, handled.length, 'one report per batch');
  assert.is(sent.reduce((a, s) => a + s[0], 0), q.stats().packets, 'every packet reported');
  sent.forEach(([count, receivedAt, at], i) => {
    const [hCount, hStart, hEnd] = handled[i]!;
    assert.is(count, hCount);
    assert.ok(receivedAt <= hStart, 'received before the handler ran');
    assert.ok(at >= hEnd, 'reported after the handler (and the verdict) returned');
  });
});

nfq('kernel errors have stable codes: double bind, CONNTRACK where unsupported', () => {
  const n = uniqueQueue();
  const a = new NfQueue({ queue: n, repeatMark: REPEAT, bypassMark: BYPASS });
  try {
    assert.throws(
      () => new NfQueue({ queue: n, repeatMark: REPEAT, bypassMark: BYPASS }),
      (e: unknown) => e instanceof LateralError && e.code === 'LATERAL_ERR_KERNEL' && /already bound/.test(e.message),
    );
  } finally {
    a.close();
  }
  // NETLINK_GLUE_CT is a kernel build option: either it works, or it says exactly why not.
  let ct: NfQueue | undefined;
  try {
    ct = new NfQueue({ queue: n, repeatMark: REPEAT, bypassMark: BYPASS, conntrack: true });
  } catch (e) {
    assert.instance(e, LateralError);
    assert.is((e as LateralError).code, 'LATERAL_ERR_KERNEL');
    assert.match((e as Error).message, /NFQA_CFG_F_CONNTRACK is not supported by this kernel.*Operation not supported/);
  } finally {
    ct?.close();
  }
  assert.throws(() => new NfQueue({ queue: 70000, repeatMark: REPEAT, bypassMark: BYPASS }), /not in 0\.\.65535/);
});

nfq('the addon loads and binds inside worker threads', async () => {
  const n = uniqueQueue();
  const mod = path.join(repoRoot, 'dist', 'src', 'capture', 'nfqueue.js');
  const src = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { NfQueue } = require(${JSON.stringify(mod)});
    const q = new NfQueue({ queue: workerData, repeatMark: 1, bypassMark: 2 });
    q.start(() => {});
    parentPort.postMessage(q.stats().queue);
    q.close();
  `;
  const results = await Promise.all(
    [n, n + 1].map(
      (qn) =>
        new Promise<number>((resolve, reject) => {
          const w = new Worker(src, { eval: true, workerData: qn });
          w.once('message', resolve);
          w.once('error', reject);
        }),
    ),
  );
  assert.equal(results, [n, n + 1]);
});

nfq.run();
