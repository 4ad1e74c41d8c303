// Flow timeouts by protocol and state, in seconds: Suricata 7's defaults (suricata.yaml
// flow-timeouts). A flow expires when its last packet is at least this old.
import { IpProto } from '../decode/packet';
import { Flow, FlowState } from './flow';

export interface StateTimeouts {
  new: number;
  established: number;
  closed: number;
  bypassed: number;
}

export interface FlowTimeouts {
  default: StateTimeouts;
  tcp: StateTimeouts;
  udp: StateTimeouts;
  icmp: StateTimeouts;
}

export const SURICATA_FLOW_TIMEOUTS: FlowTimeouts = {
  default: { new: 30, established: 300, closed: 0, bypassed: 100 },
  tcp: { new: 60, established: 600, closed: 60, bypassed: 100 },
  udp: { new: 30, established: 300, closed: 0, bypassed: 100 },
  icmp: { new: 30, established: 300, closed: 0, bypassed: 100 },
};

export function flowTimeout(t: FlowTimeouts, flow: Flow): number {
  const p = flow.proto;
  const s = p === IpProto.TCP ? t.tcp : p === IpProto.UDP ? t.udp : p === IpProto.ICMP || p === IpProto.ICMPV6 ? t.icmp : t.default;
  if (flow.bypassed) return s.bypassed;
  return flow.state === FlowState.NEW ? s.new : flow.state === FlowState.ESTABLISHED ? s.established : s.closed;
}
