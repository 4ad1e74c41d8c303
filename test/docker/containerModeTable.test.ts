// The per-container mode decision (lateral.mode=monitor|protect) as the workers make it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ContainerMode } from '../../src/docker/containerDirectory';
import { ContainerModeTable, enforceDrop } from '../../src/docker/containerModeTable';
import { parseIpAddress, parseIpv4 } from '../../src/docker/parseIpAddress';

const { DEFAULT, MONITOR, PROTECT } = ContainerMode;

function addr(text: string): Uint8Array {
  const b = new Uint8Array(16);
  assert.ok(parseIpAddress(text, b), text);
  return b;
}

test('a drop stands unless both ends are monitor (own label, or the global mode when unlabelled)', () => {
  const cases: [number, number, number, boolean][] = [
    [MONITOR, MONITOR, PROTECT, false],
    [MONITOR, PROTECT, PROTECT, true],
    [PROTECT, MONITOR, MONITOR, true],
    [MONITOR, DEFAULT, PROTECT, true],
    [MONITOR, DEFAULT, MONITOR, false],
    [DEFAULT, DEFAULT, MONITOR, false],
    [DEFAULT, DEFAULT, PROTECT, true],
    [DEFAULT, PROTECT, MONITOR, true],
  ];
  for (const [s, d, g, want] of cases) assert.is(enforceDrop(s, d, g), want, `${s} ${d} global ${g}`);
});

test('ContainerModeTable answers IPv4 and IPv6 addresses from a snapshot; unknown ones are DEFAULT', () => {
  const v6 = addr('fd00::5');
  const table = new ContainerModeTable({
    ipv4: [parseIpv4('172.18.0.2'), parseIpv4('172.18.0.3'), parseIpv4('200.1.2.3')],
    ipv4Modes: [MONITOR, PROTECT, MONITOR],
    ipv6: [...v6],
    ipv6Modes: [MONITOR],
  });
  assert.is(table.modeOf(addr('172.18.0.2')), MONITOR);
  assert.is(table.modeOf(addr('172.18.0.3')), PROTECT);
  assert.is(table.modeOf(addr('200.1.2.3')), MONITOR, 'addresses above 2^31 (signed keys)');
  assert.is(table.modeOf(addr('172.18.0.4')), DEFAULT);
  assert.is(table.modeOf(addr('fd00::5')), MONITOR);
  assert.is(table.modeOf(addr('fd00::6')), DEFAULT);
  // An address at an offset inside a larger buffer, as in a packet view.
  const big = new Uint8Array(40);
  big.set(addr('172.18.0.2'), 12);
  assert.is(table.modeOf(big, 12), MONITOR);
  assert.not.ok(table.enforceDrop(addr('172.18.0.2'), addr('fd00::5')));
  assert.ok(table.enforceDrop(addr('172.18.0.2'), addr('172.18.0.3')));
  assert.ok(table.enforceDrop(addr('172.18.0.2'), addr('172.18.0.9')), 'unlabelled end under global protect');
});

test('the snapshot survives structured cloning (postMessage to a worker)', () => {
  const snap = { ipv4: [parseIpv4('10.0.0.1')], ipv4Modes: [MONITOR], ipv6: [], ipv6Modes: [] };
  const table = new ContainerModeTable(structuredClone(snap), MONITOR);
  assert.not.ok(table.enforceDrop(addr('10.0.0.1'), addr('10.0.0.2')));
});

test.run();
