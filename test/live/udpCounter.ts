// A counted UDP stream between two lab namespaces, for tests that must prove "no packet lost":
// a sender (one flow, sequence-numbered datagrams at a fixed rate) and a receiver that counts
// distinct sequence numbers. Both are small node programs run with `ip netns exec`. Markers
// ("RELOADMARK <id>", each from a fresh socket, so each is its own flow) are reported by the
// receiver the moment they arrive, so a test can see whether a rule let one through.
import { ChildProcess, spawn } from 'node:child_process';

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
process.on('SIGTERM', () => { process.stdout.write('END ' + JSON.stringify({ legit, dup, max }) + '\\n'); process.exit(0); });
`;

const SENDER = `
const dgram = require('node:dgram');
const [host, port, pps] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])];
const pad = 'x'.repeat(64);
const s = dgram.createSocket('udp4');
let sent = 0, running = true;
const t0 = Date.now();
// Paced by elapsed time, not by timer ticks: the rate holds when the loop is late.
const timer = setInterval(() => {
  if (!running) return;
  const due = Math.floor(((Date.now() - t0) * pps) / 1000);
  while (sent < due) { s.send('SEQ ' + sent + ' ' + pad, port, host); sent++; }
}, 2);
let buf = '';
process.stdin.on('data', (d) => {
  buf += d;
  let i;
  while ((i = buf.indexOf('\\n')) >= 0) {
    const line = buf.slice(0, i); buf = buf.slice(i + 1);
    if (line.startsWith('marker ')) {
      const m = dgram.createSocket('udp4');
      m.send('RELOADMARK ' + line.slice(7), port, host, () => m.close());
    } else if (line === 'stop') {
      running = false; clearInterval(timer);
      setTimeout(() => { process.stdout.write('END ' + JSON.stringify({ sent }) + '\\n'); process.exit(0); }, 200);
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
  }

  /** Sends marker `id` on a new flow; true when the receiver got it within waitMs. */
  async marker(id: string, waitMs: number): Promise<boolean> {
    this.sender.child.stdin!.write(`marker ${id}\n`);
    return (await this.receiver.waitFor(new RegExp(`^M ${id}$`, 'm'), waitMs)) !== null;
  }

  /** Stops the stream; returns datagrams sent and distinct ones received (after a settle). */
  async finish(settleMs = 500): Promise<{ sent: number; received: number; duplicates: number }> {
    this.sender.child.stdin!.write('stop\n');
    const s = await this.sender.waitFor(/^END (.*)$/m, 5000);
    await new Promise((r) => setTimeout(r, settleMs));
    this.receiver.child.kill('SIGTERM');
    const r = await this.receiver.waitFor(/^END (.*)$/m, 5000);
    if (s === null || r === null) throw new Error(`udp counter did not report: sender ${this.sender.out} receiver ${this.receiver.out}`);
    const sent = (JSON.parse(s[1]!) as { sent: number }).sent;
    const got = JSON.parse(r[1]!) as { legit: number; dup: number };
    return { sent, received: got.legit, duplicates: got.dup };
  }

  close(): void {
    this.sender.kill();
    this.receiver.kill();
  }
}
