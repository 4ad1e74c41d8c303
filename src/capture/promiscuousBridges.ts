// Protected bridges in promiscuous mode: a silent kernel drop that Lateral can only name.
//
// A bridge in promiscuous mode (a packet capture on it: `tcpdump -i docker0`, `lateral watch`)
// delivers a clone of every forwarded frame to the host stack. br_netfilter attached the
// frame's conntrack entry before the clone was made, so for the first packets of a connection
// (entry not yet confirmed) two skbs share one unconfirmed entry. Since Linux 6.x NFQUEUE
// refuses such packets (net/netfilter/nfnetlink_queue.c, nf_ct_drop_unconfirmed: "skb_clone()
// can occur after initial conntrack pickup ... This happens for br_netfilter") and drops them
// before they reach the queue: no queue counter moves, Lateral never sees them, and new
// connections across the bridge stall while the capture runs (measured on 6.18: every SYN lost).
// Unknown-unicast flooding clones the same way, which costs only the copies to wrong ports.
//
// What Lateral can do is see the cause (the interface's IFF_PROMISC flag) and the effect (queue
// rule hits minus packets seen, `uninspected`), say so, and export it as a metric.
import fs from 'node:fs';
import path from 'node:path';

/** include/uapi/linux/if.h */
export const IFF_PROMISC = 0x100;

/** The IFF_PROMISC flag of an interface from sysfs; undefined when the interface is gone. */
export function isPromiscuous(ifname: string, sysClassNet = '/sys/class/net'): boolean | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path.join(sysClassNet, ifname, 'flags'), 'utf8');
  } catch {
    return undefined;
  }
  const flags = Number.parseInt(text.trim(), 16);
  return Number.isFinite(flags) ? (flags & IFF_PROMISC) !== 0 : undefined;
}

export const PROMISCUOUS_BRIDGE_ADVICE =
  'the kernel drops queued packets of connections conntrack has not confirmed yet when the bridge clones them ' +
  'for local capture (nfnetlink_queue: cloned unconfirmed conntrack), so new connections across it fail while this lasts; ' +
  'capture on the containers\' veth ports instead (tcpdump -i vethXXXX), or without promiscuous mode (tcpdump -p)';

/**
 * Follows the promiscuous flag of the protected bridges: one log line when a bridge enters
 * promiscuous mode and one when it leaves, and the current set for the metrics.
 */
export class PromiscuousBridgeWatch {
  private readonly current = new Set<string>();

  constructor(
    private readonly log: (line: string) => void,
    private readonly sysClassNet = '/sys/class/net',
  ) {}

  /** Bridges found promiscuous by the last check. */
  get promiscuous(): ReadonlySet<string> {
    return this.current;
  }

  /** Checks every bridge; returns true when the set changed. */
  check(bridges: readonly string[]): boolean {
    let changed = false;
    for (const bridge of bridges) {
      const on = isPromiscuous(bridge, this.sysClassNet) === true;
      if (on === this.current.has(bridge)) continue;
      changed = true;
      if (on) {
        this.current.add(bridge);
        this.log(`warning: protected bridge ${bridge} is in promiscuous mode (a packet capture on it?): ${PROMISCUOUS_BRIDGE_ADVICE}`);
      } else {
        this.current.delete(bridge);
        this.log(`bridge ${bridge} left promiscuous mode: new connections across it are queued again`);
      }
    }
    for (const bridge of [...this.current]) {
      if (!bridges.includes(bridge)) {
        this.current.delete(bridge);
        changed = true;
      }
    }
    return changed;
  }
}
