#!/usr/bin/env python3
# Regenerates tsharkFollow.json: per corpus pcap, per TCP conversation, the bytes each side sent
# as Wireshark reassembles them (`tshark -z follow,tcp,raw,N`), and per-protocol packet counts
# from tcpdump filters. An independent reference for the decode/flow/stream tests.
# Usage: python3 test/stream/tsharkFollow.py /path/to/shared/corpus > test/stream/tsharkFollow.json
import json, subprocess, sys, glob, os

corpus = sys.argv[1]
files = sorted(glob.glob(os.path.join(corpus, 'pcaps', '*.pcap*'))) + sorted(glob.glob(os.path.join(corpus, 'suricata-verify', 'tests', '**', '*.pcap'), recursive=True))

def run(args):
    return subprocess.run(args, capture_output=True, text=True).stdout

def count(f, flt):
    # 'vlan' shifts the filter past one 802.1Q tag: count untagged and tagged packets.
    # ('vlan' is not valid on every link type: fall back to the plain filter there.)
    res = subprocess.run(['tcpdump', '-nr', f, f'({flt}) or (vlan and {flt})' if flt else ''], capture_output=True, text=True)
    if res.returncode != 0:
        res = subprocess.run(['tcpdump', '-nr', f, flt], capture_output=True, text=True)
    out = res.stdout
    return sum(1 for l in out.splitlines() if l and not l.startswith(' ') and not l.startswith('\t'))

result = {}
for f in files:
    rel = os.path.relpath(f, corpus)
    streams = run(['tshark', '-r', f, '-T', 'fields', '-e', 'tcp.stream', '-Y', 'tcp']).split()
    ids = sorted(set(int(s) for s in streams if s.strip().isdigit()))
    convs = []
    for i in ids:
        out = run(['tshark', '-r', f, '-q', '-z', f'follow,tcp,raw,{i}'])
        node0 = node1 = None
        b0 = b1 = 0
        for line in out.splitlines():
            if line.startswith('Node 0: '): node0 = line[8:].strip()
            elif line.startswith('Node 1: '): node1 = line[8:].strip()
            elif line.startswith('\t'): b1 += len(line.strip()) // 2
            elif line and all(c in '0123456789abcdef' for c in line.strip()): b0 += len(line.strip()) // 2
        convs.append({'node0': node0, 'node1': node1, 'bytes0': b0, 'bytes1': b1})
    result[rel] = {
        'packets': count(f, ''),
        'tcp': count(f, 'tcp'),
        'udp': count(f, 'udp'),
        'icmp': count(f, 'icmp'),
        'ip': count(f, 'ip'),
        'ip6': count(f, 'ip6'),
        'tcpStreams': convs,
    }
json.dump(result, sys.stdout, indent=1, sort_keys=True)
print()
