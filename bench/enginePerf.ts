// Per-packet engine cost, measured in one process so that rule loading and the machine's
// other load stay out of the figures (CPU time of this process, not wall time):
//   node --trace-gc dist/bench/enginePerf.js RULES PCAP [ROUNDS]
// prints rule load/compile CPU time and heap, then per round the replay's packets/s of CPU
// time, then the raw Aho-Corasick scan rate (JS loop and native loop) of the rule set's
// payload automaton over the pcap's bytes; ENGINEPERF_RAW_ALL=1 adds every buffer's automaton
// and the cost per scan by range length. Lines between "enginePerf: replay begin/end" markers are the GC trace of the
// replay rounds alone; bytes allocated ≈ the sum over those GCs of (heap before this GC − heap
// after the previous one), divided by the packets of the rounds (docs/performance.md).
import * as fs from 'node:fs';
import * as v8 from 'node:v8';
import { Session } from 'node:inspector';
import { prepareReplayEngine, replayWithEngine } from '../src/cli/replay';
import { AhoCorasick } from '../src/detect/ahoCorasick';
import { BufferId, bufferInfo } from '../src/detect/buffers';

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

async function main(): Promise<void> {
  const [rules, pcap, roundsArg] = process.argv.slice(2);
  if (!rules || !pcap) {
    process.stderr.write('usage: enginePerf RULES PCAP [ROUNDS]\n');
    process.exit(2);
  }
  const rounds = Number(roundsArg ?? 3);
  const heap0 = v8.getHeapStatistics().used_heap_size;
  const c0 = cpuMs();
  const prepared = prepareReplayEngine({
    ruleFiles: [rules], simulateIps: false,
    settings: { 'vars.address-groups.HOME_NET': 'any', 'vars.address-groups.EXTERNAL_NET': 'any' },
  }, 'skip');
  const loadCpu = cpuMs() - c0;
  if (global.gc) global.gc();
  const heap1 = v8.getHeapStatistics().used_heap_size;
  console.log(`enginePerf: rules ${prepared.rules.signatures.length} loaded, load+compile ${loadCpu.toFixed(0)} ms CPU ` +
    `(compile ${prepared.engine.stats.compileMs} ms wall), engine heap ${((heap1 - heap0) / 1048576).toFixed(1)} MiB` +
    `${global.gc ? '' : ' (run with --expose-gc for an exact heap figure)'}`);

  // ENGINEPERF_HEAPPROF=FILE: sample the replay rounds' allocations (collected ones too) into
  // a .heapprofile (Chrome DevTools format) to find what allocates per packet.
  const heapProf = process.env.ENGINEPERF_HEAPPROF;
  const session = new Session();
  const post = (method: string, params?: object): Promise<unknown> =>
    new Promise((resolve, reject) => session.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res))));
  if (heapProf) {
    session.connect();
    await post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  }
  console.log('enginePerf: replay begin');
  let packetsReplayed = 0;
  for (let r = 0; r < rounds; r++) {
    const t = cpuMs();
    const res = await replayWithEngine(prepared, [pcap], 'none');
    const ms = cpuMs() - t;
    packetsReplayed += res.stats.packets;
    console.log(`enginePerf: round ${r + 1}: ${res.stats.packets} packets, ${res.stats.alerts} alerts, ${ms.toFixed(0)} ms CPU, ` +
      `${Math.round(res.stats.packets / (ms / 1000))} packets/s (CPU)`);
  }
  console.log('enginePerf: replay end');
  {
    const eng = prepared.engine;
    const parts: string[] = [];
    let app = 0;
    eng.appPrefilterBytes.forEach((n, id) => { app += n; if (n > 0) parts.push(`${bufferInfo(id).name} ${(n / rounds / 1e6).toFixed(2)}`); });
    console.log(`enginePerf: prefilter MB scanned per round: payload/stream ${(eng.prefilterBytes / rounds / 1e6).toFixed(2)} ` +
      `(packets ${(eng.packetPrefilterBytes / rounds / 1e6).toFixed(2)}), ` +
      `app-layer ${(app / rounds / 1e6).toFixed(2)} (${parts.join(', ')})`);
    // What the signature groups save: evaluations per packet of prefilter candidates and of
    // signatures without a fast pattern (23 per TCP packet before the groups).
    console.log(`enginePerf: per packet: ${(eng.prefilterCandidates / packetsReplayed).toFixed(3)} prefilter candidates, ` +
      `${(eng.alwaysEvaluated / packetsReplayed).toFixed(3)} signatures without a fast pattern evaluated`);
  }
  if (heapProf) {
    const res = await post('HeapProfiler.stopSampling') as { profile: unknown };
    fs.writeFileSync(heapProf, JSON.stringify(res.profile));
    session.disconnect();
  }

  // ENGINEPERF_NO_RAW=1: skip the raw scan below (its ~2 s would dominate a CPU profile).
  if (process.env.ENGINEPERF_NO_RAW === '1') return;

  // Raw scan rate: the payload fast patterns of every signature, one automaton, over the
  // pcap file's bytes (headers included: a mix of text and binary like real traffic), by the
  // JS loop and by the native one (nativeMinBytes Infinity / 0; "native n/a" without the addon).
  const data = fs.readFileSync(pcap);
  const sink = { hits: 0, hit(): void { this.hits++; } };
  const rate = (ac: AhoCorasick, native: boolean, ms: number): { mibs: number; hits: number } => {
    ac.nativeMinBytes = native ? 0 : Infinity;
    sink.hits = 0;
    let bytes = 0, hits = 0;
    const ts = cpuMs();
    while (cpuMs() - ts < ms) { ac.scanRange(data, 0, data.length, 0, sink); bytes += data.length; hits = sink.hits; sink.hits = 0; }
    return { mibs: bytes / 1048576 / ((cpuMs() - ts) / 1000), hits };
  };
  const byBuffer = new Map<number, Map<string, Uint8Array>>();
  for (const s of prepared.rules.signatures) {
    const fp = s.fastPattern;
    if (!fp) continue;
    let m = byBuffer.get(fp.bufferId);
    if (!m) byBuffer.set(fp.bufferId, m = new Map());
    m.set(Buffer.from(fp.bytes).toString('latin1').toLowerCase(), fp.bytes);
  }
  const patterns = byBuffer.get(BufferId.PAYLOAD) ?? new Map<string, Uint8Array>();
  const tb = cpuMs();
  const ac = new AhoCorasick([...patterns.values()]);
  const buildMs = cpuMs() - tb;
  const js = rate(ac, false, 2000);
  const nat = ac.hasNative ? rate(ac, true, 2000) : null;
  console.log(`enginePerf: payload automaton ${patterns.size} patterns, ${ac.stateCount} states, built in ${buildMs.toFixed(0)} ms; ` +
    `scan JS ${js.mibs.toFixed(0)} MiB/s, native ${nat ? nat.mibs.toFixed(0) : 'n/a'} MiB/s (CPU), ${js.hits} hits` +
    (nat && nat.hits !== js.hits ? ` (native: ${nat.hits} hits: MISMATCH)` : ''));

  // ENGINEPERF_RAW_ALL=1: the same for the automaton of every buffer with fast patterns (all
  // protocols together), 300 ms each way, and the per-call cost by range length on the payload
  // automaton (the crossover that sets NATIVE_MIN_BYTES).
  if (process.env.ENGINEPERF_RAW_ALL !== '1' || !ac.hasNative) return;
  for (const [id, m] of byBuffer) {
    if (id === BufferId.PAYLOAD) continue;
    const a = new AhoCorasick([...m.values()]);
    const j = rate(a, false, 300), n = rate(a, true, 300);
    console.log(`enginePerf: automaton ${bufferInfo(id).name}: ${m.size} patterns, ${a.stateCount} states; ` +
      `JS ${j.mibs.toFixed(0)} MiB/s, native ${n.mibs.toFixed(0)} MiB/s (${(n.mibs / j.mibs).toFixed(2)}x)` +
      (n.hits !== j.hits ? ` MISMATCH ${j.hits} / ${n.hits} hits` : ''));
  }
  for (const len of [16, 32, 48, 64, 96, 128, 256, 1024, 4096]) {
    const per: string[] = [];
    for (const native of [false, true]) {
      ac.nativeMinBytes = native ? 0 : Infinity;
      let calls = 0;
      const ts = cpuMs();
      while (cpuMs() - ts < 300) {
        for (let off = 0; off + len <= data.length && off < 4_000_000; off += len) { ac.scanRange(data, off, off + len, 0, sink); calls++; }
      }
      per.push(`${(((cpuMs() - ts) * 1e6) / calls).toFixed(0)} ns`);
    }
    console.log(`enginePerf: payload automaton, ${len}-byte ranges: JS ${per[0]}, native ${per[1]} per scan`);
  }
}

void main();
