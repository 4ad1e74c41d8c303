// Frames an interface received plus sent, from sysfs (/sys/class/net/<if>/statistics).
//
// PassiveCapture uses it to estimate kernel drops: `cap` 0.2.1 exposes no pcap_stats(), and
// the packet socket's sk_drops (ss -0 -m, `skmem d`) stays 0 when the TPACKET ring
// overflows (measured: 105,529 UDP frames crossed the lab bridge, 25,226 were captured, d0).
// On a bridge in promiscuous mode every forwarded frame is passed up and counted in
// rx_packets (measured: rx_packets 105,567 for the same run), so without a BPF filter the
// difference between this count and the frames captured is what the kernel dropped.

import * as fs from 'node:fs';

/** rx_packets + tx_packets of `iface`, or null when sysfs has no counters for it. */
export function interfaceFrameCount(iface: string): number | null {
  try {
    const dir = `/sys/class/net/${iface}/statistics/`;
    return Number(fs.readFileSync(dir + 'rx_packets', 'ascii')) + Number(fs.readFileSync(dir + 'tx_packets', 'ascii'));
  } catch {
    return null;
  }
}
