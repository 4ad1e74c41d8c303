// Installs/removes Lateral's rule set for the C floor consumer in bench/throughput, so
// the floor and `lateral run` are measured behind exactly the same iptables rules.
//   node dist/bench/throughputFirewall.js install|remove BRIDGE QUEUE INSTANCE
import { Firewall } from '../src/capture/firewall';

const [op, bridge, queue, instance] = process.argv.slice(2);
if ((op !== 'install' && op !== 'remove') || !bridge || !queue || !instance) {
  process.stderr.write('usage: throughputFirewall install|remove BRIDGE QUEUE INSTANCE\n');
  process.exit(2);
}
const q = Number(queue);
const fw = new Firewall({
  bridges: [bridge],
  firstQueue: q,
  lastQueue: q,
  queueBypass: true,
  repeatMark: 0x100000,
  bypassMark: 0x200000,
  instance,
  hook: 'FORWARD',
});
if (op === 'install') fw.install();
else fw.remove();
