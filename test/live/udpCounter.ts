// A counted UDP stream between two lab namespaces, for tests that must prove "no packet lost":
// a sender (one flow, sequence-numbered datagrams at a fixed rate) and a receiver that counts
// distinct sequence numbers. Both are small node programs run with `ip netns exec`. Markers
// ("RELOADMARK <id>", each from a fresh socket, so each is its own flow) are reported by the
// receiver the moment they arrive, so a test can see whether a rule let one through.
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';

const RECEIVER = `
const dgram = require('node:dgram');
const port = Number(process.argv[1]);
const seen = new Uint8Array(1 << 22);
let legit = 0, dup = 0, max = -1;
// A queue released after a stall arrives as one burst: room for it (capped by rmem_max).
const s = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
s.on('message', (m) => {
  const t = m.toString('latin1');
  if (t.startsWith('SEQ ')) {
    const n = Number(t.slice(4, t.indexOf(' ', 4)));
    if (seen[n]) dup++; else { seen[n] = 1; legit++; }
    if (n > max) max = n;
  } else if (t.startsWith('RELOADMARK ')) process.stdout.write('M ' + t.slice(11).trim() + '\\n');
});
s.bind(port, () => process.stdout.write('READY\\n'));
process.stdin.on('data', () => process.stdout.write('COUNT ' + legit + '\\n'));
// The sequence numbers that never arrived, as ranges (the first 20): when and how a loss happened.
function missing() {
  const out = [];
  for (let i = 0; i <= max && out.length < 20; i++) {
    if (seen[i]) continue;
    let j = i;
    while (j + 1 <= max && !seen[j + 1]) j++;
    out.push(i === j ? String(i) : i + '-' + j);
    i = j;
  }
  return out;
}
process.on('SIGTERM', () => { process.stdout.write('END ' + JSON.stringify({ legit, dup, max, missing: missing() }) + '\\n'); process.exit(0); });
`;

const SENDER = `
const dgram = require('node:dgram');
const [host, port, pps] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])];
const pad = 'x'.repeat(64);
const s = dgram.createSocket('udp4');
let sent = 0, sendErrors = 0, running = true, timer = null, t0 = 0;
const onSent = (err) => { if (err) sendErrors++; };
// Paced by elapsed time, not by timer ticks: the rate holds when the loop is late. Started
// only on 'start', once the receiver is bound (else the first datagrams meet a closed port).
function start() {
  t0 = Date.now();
  timer = setInterval(() => {
    if (!running) return;
    const due = Math.floor(((Date.now() - t0) * pps) / 1000);
    while (sent < due) { s.send('SEQ ' + sent + ' ' + pad, port, host, onSent); sent++; }
  }, 2);
}
let buf = '';
process.stdin.on('data', (d) => {
  buf += d;
  let i;
  while ((i = buf.indexOf('\\n')) >= 0) {
    const line = buf.slice(0, i); buf = buf.slice(i + 1);
    if (line === 'start') start();
    else if (line.startsWith('marker ')) {
      const m = dgram.createSocket('udp4');
      m.send('RELOADMARK ' + line.slice(7), port, host, () => m.close());
    } else if (line === 'stop') {
      running = false; if (timer !== null) clearInterval(timer);
      setTimeout(() => { process.stdout.write('END ' + JSON.stringify({ sent, sendErrors }) + '\\n'); process.exit(0); }, 200);
    }
  }
});
process.stdout.write('READY\\n');
`;

class NsNode {
  readonly child: ChildProcess;
  out = '';
  constructor(netns: string, script: string, args: readonly string[]) {
    this.child = spawn('ip', ['netns', 'exec', netns, process.execPath, '-e', script, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d: Buffer) => {
      this.out += d.toString();
    });
    this.child.stderr!.on('data', (d: Buffer) => {
      this.out += d.toString();
    });
  }
  async waitFor(re: RegExp, timeoutMs: number): Promise<RegExpExecArray | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = re.exec(this.out);
      if (m !== null) return m;
      if (Date.now() > deadline || this.child.exitCode !== null) return null;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

export class UdpCounter {
  private readonly receiver: NsNode;
  private readonly sender: NsNode;

  constructor(fromNs: string, toNs: string, toIp: string, readonly port: number, pps: number) {
    this.receiver = new NsNode(toNs, RECEIVER, [String(port)]);
    this.sender = new NsNode(fromNs, SENDER, [toIp, String(port), String(pps)]);
  }

  async ready(): Promise<void> {
    if ((await this.receiver.waitFor(/READY/, 10000)) === null) throw new Error(`udp receiver not ready: ${this.receiver.out}`);
    if ((await this.sender.waitFor(/READY/, 10000)) === null) throw new Error(`udp sender not ready: ${this.sender.out}`);
    this.sender.child.stdin!.write('start\n');
  }

  /** Sends marker `id` on a new flow; true when the receiver got it within waitMs. */
  async marker(id: string, waitMs: number): Promise<boolean> {
    this.sender.child.stdin!.write(`marker ${id}\n`);
    return (await this.receiver.waitFor(new RegExp(`^M ${id}$`, 'm'), waitMs)) !== null;
  }

  /** Stops the stream; returns datagrams sent and distinct ones received (once all arrived or none came for settleMs). */
  async finish(settleMs = 2000): Promise<{ sent: number; received: number; duplicates: number; sendErrors: number; missing: string[] }> {
    this.sender.child.stdin!.write('stop\n');
    const s = await this.sender.waitFor(/^END (.*)$/m, 5000);
    if (s !== null) await this.settle((JSON.parse(s[1]!) as { sent: number }).sent, settleMs);
    this.receiver.child.kill('SIGTERM');
    const r = await this.receiver.waitFor(/^END (.*)$/m, 5000);
    if (s === null || r === null) throw new Error(`udp counter did not report: sender ${this.sender.out} receiver ${this.receiver.out}`);
    const sender = JSON.parse(s[1]!) as { sent: number; sendErrors: number };
    const got = JSON.parse(r[1]!) as { legit: number; dup: number; max: number; missing: string[] };
    // Datagrams sent after the last one received are missing too.
    const tail = got.max + 1 < sender.sent ? [`${got.max + 1}-${sender.sent - 1}`] : [];
    return { sent: sender.sent, received: got.legit, duplicates: got.dup, sendErrors: sender.sendErrors, missing: [...got.missing, ...tail] };
  }

  /**
   * Waits until the receiver has every datagram sent, or its count stopped moving for
   * `quietMs`: datagrams still held in the queue or in the path (a worker's GC pause right
   * after a reload) are not counted as lost.
   */
  private async settle(sent: number, quietMs: number): Promise<void> {
    let last = -1, lastChange = Date.now();
    const deadline = Date.now() + 30000;
    for (let asked = 0; Date.now() < deadline; asked++) {
      this.receiver.child.stdin!.write('count\n');
      const seen = this.receiver.out.length;
      const deadlineReply = Date.now() + 5000;
      let count = -1;
      while (count < 0 && Date.now() < deadlineReply) {
        await new Promise((r) => setTimeout(r, 50));
        const m = /COUNT (\d+)\n/.exec(this.receiver.out.slice(seen));
        if (m) count = Number(m[1]);
      }
      if (count >= sent) return;
      if (count !== last) { last = count; lastChange = Date.now(); }
      else if (Date.now() - lastChange >= quietMs) return;
    }
  }

  close(): void {
    this.sender.kill();
    this.receiver.kill();
  }
}

/**
 * Kernel counters that say where a datagram between two lab namespaces was lost, when one
 * is: the sender's and receiver's UDP buffer errors (per namespace), the per-CPU backlog
 * drops (softnet_stat, host-wide) and conntrack's drops (per namespace; the bridge's
 * packets are tracked in the host namespace). Take one before the traffic, one after, and
 * print `lossEvidenceDelta` when counts differ: a loss outside Lateral shows up here.
 */
export interface LossEvidence { [counter: string]: number }

function udpSnmp(netns: string): LossEvidence {
  const text = execFileSync('ip', ['netns', 'exec', netns, 'cat', '/proc/net/snmp'], { encoding: 'utf8' });
  const lines = text.split('\n').filter((l) => l.startsWith('Udp:'));
  const names = lines[0]!.split(/\s+/).slice(1), values = lines[1]!.split(/\s+/).slice(1);
  const out: LossEvidence = {};
  names.forEach((n, i) => {
    if (n === 'InErrors' || n === 'RcvbufErrors' || n === 'SndbufErrors' || n === 'NoPorts') out[`${netns}:${n}`] = Number(values[i]);
  });
  return out;
}

function softnetDropped(): number {
  // Column 2 of each CPU's line: packets dropped because the backlog queue was full.
  return fs.readFileSync('/proc/net/softnet_stat', 'utf8').trim().split('\n').reduce((n, l) => n + parseInt(l.split(' ')[1]!, 16), 0);
}

function conntrackDrops(): LossEvidence {
  const out: LossEvidence = { 'conntrack:drop': 0, 'conntrack:insert_failed': 0, 'conntrack:early_drop': 0 };
  let text = '';
  try { text = execFileSync('conntrack', ['-S'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }); } catch { return out; }
  for (const key of ['drop', 'insert_failed', 'early_drop']) {
    for (const m of text.matchAll(new RegExp(`\\b${key}=(\\d+)`, 'g'))) out[`conntrack:${key}`]! += Number(m[1]);
  }
  return out;
}

export function lossEvidence(fromNs: string, toNs: string): LossEvidence {
  return { ...udpSnmp(fromNs), ...udpSnmp(toNs), 'softnet:dropped': softnetDropped(), ...conntrackDrops() };
}

/** The counters that moved between two snapshots, as "name +n" (empty when none moved). */
export function lossEvidenceDelta(before: LossEvidence, after: LossEvidence): string {
  return Object.keys(after).filter((k) => after[k]! !== (before[k] ?? 0)).map((k) => `${k} +${after[k]! - (before[k] ?? 0)}`).join(', ');
}
