// TrafficMap: rates over the window, blocked highlighting, alert ring, and its bounds.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TrafficMap } from '../../src/output/trafficMap';
import type { AlertRecordInput } from '../../src/output/eveAlert';

function alert(src: string, dst: string, sid: number, blocked: boolean): AlertRecordInput {
  const a = new Uint8Array(16); a[10] = a[11] = 0xff; a[12] = 10; a[15] = 1;
  const b = new Uint8Array(16); b[10] = b[11] = 0xff; b[12] = 10; b[15] = 2;
  return { tsSec: 1700000000, tsUsec: 0, flowId: 1, ipVersion: 4, src: a, dst: b, srcPort: 1234, dstPort: 80, ipProto: 6, toServer: true, blocked,
    gid: 1, sid, rev: 1, signature: `sig ${sid}`, category: '', severity: 2, srcContainer: { name: src }, destContainer: { name: dst, image: 'img', network: 'net' } };
}

test('rates follow the traffic and decay when it stops', () => {
  const m = new TrafficMap({ rateWindowMs: 10_000 });
  let t = 1_000_000;
  for (let i = 0; i < 10; i++, t += 1000) m.addTraffic('a', 'b', 'http', 10, 10_000, 0, 1, 0, t);
  let e = m.snapshot(t).edges[0]!;
  assert.ok(Math.abs(e.bytesPerSec - 10_000) < 1500, String(e.bytesPerSec));
  assert.is(e.bytes, 100_000);
  assert.is(e.blocked, false);
  t += 30_000;
  m.snapshot(t - 15_000);
  e = m.snapshot(t).edges[0]!;
  assert.is(e.bytesPerSec, 0);
});

test('blocked alerts mark the edge, alerts are a bounded newest-first ring', () => {
  const m = new TrafficMap({ maxAlerts: 3 });
  for (let i = 1; i <= 5; i++) m.recordAlert(alert('web', 'db', i, i === 5), 1000);
  const s = m.snapshot(2000);
  assert.equal(s.alerts.map((a) => a.sid), [5, 4, 3]);
  assert.is(s.alerts[0]!.srcIp, '10.0.0.1');
  assert.is(s.edges[0]!.blocked, true);
  assert.equal(s.nodes.find((n) => n.id === 'db'), { id: 'db', alerts: 5, image: 'img', network: 'net' });
});

test('edges and container identities are bounded', () => {
  const m = new TrafficMap({ maxEdges: 100, maxContainers: 50 });
  for (let i = 0; i < 500; i++) {
    m.setContainer({ name: `c${i}`, image: 'x' });
    m.recordAlert(alert(`c${i}`, `c${(i + 1) % 500}`, i, false), 1000 + i);
  }
  const s = m.snapshot(5000);
  assert.is(s.edges.length, 100);
  // The most recent edges are the ones kept.
  assert.ok(s.edges.some((e) => e.src === 'c499'));
  assert.not.ok(s.edges.some((e) => e.src === 'c0'));
  assert.ok(s.nodes.filter((n) => n.image !== undefined).length <= 50);
});

test.run();
