#!/usr/bin/env node
// Host network state that dockerd changes when it starts, and the undo of those changes.
//
//   docker-state.js snapshot DIR        record the state into DIR/state.json
//   docker-state.js restore DIR         undo what dockerd added since the snapshot in DIR
//   docker-state.js compare DIR [DIR2]  diff the snapshot against now (or DIR2); exit 1 if different
//
// Recorded: sysctls (ip_forward, IPv6 forwarding, bridge-nf-call-*), iptables-save of every
// table for both backends (legacy and nft) and both families, nft tables, network links.
// Plain JavaScript (not TypeScript) because scripts/docker-env runs before the build.
//
// The undo is targeted, not a blind iptables-restore of the old dump: other processes on the
// same host may add their own rules while Docker runs, and a wholesale restore would erase
// them. Docker's own rules always name a DOCKER* chain, docker0 or a br-<12 hex> bridge, so
// those (and only those) new rules and chains are removed; policies and sysctls are put back.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync, spawnSync } = require('node:child_process');

const SYSCTLS = [
  'net/ipv4/ip_forward',
  'net/ipv6/conf/all/forwarding',
  'net/ipv6/conf/default/forwarding',
  'net/bridge/bridge-nf-call-iptables',
  'net/bridge/bridge-nf-call-ip6tables',
  'net/bridge/bridge-nf-call-arptables',
];
const BACKENDS = [
  { key: 'legacy4', save: 'iptables-legacy-save', restore: 'iptables-legacy-restore', nftFamily: null },
  { key: 'legacy6', save: 'ip6tables-legacy-save', restore: 'ip6tables-legacy-restore', nftFamily: null },
  { key: 'nft4', save: 'iptables-nft-save', restore: 'iptables-nft-restore', nftFamily: 'ip' },
  { key: 'nft6', save: 'ip6tables-nft-save', restore: 'ip6tables-nft-restore', nftFamily: 'ip6' },
];
const BUILTIN = new Set(['INPUT', 'FORWARD', 'OUTPUT', 'PREROUTING', 'POSTROUTING']);
/** A rule or chain Docker made: it names a DOCKER* chain, docker0 or a user-defined bridge. */
const DOCKERISH = /DOCKER|docker0|br-[0-9a-f]{12}/;
const DOCKER_LINK = /^(docker0|br-[0-9a-f]{12})$/;

function run(cmd, args, input) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input });
  return { ok: r.status === 0, out: r.stdout || '', err: (r.stderr || '') + (r.error ? String(r.error) : '') };
}

/** iptables-save text → { table: { policies: {chain: policy}, chains: [names], rules: [lines] } } */
function parseSave(text) {
  const tables = {};
  let cur = null;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('*')) {
      cur = { policies: {}, chains: [], rules: [] };
      tables[line.slice(1)] = cur;
    } else if (line === 'COMMIT') {
      cur = null;
    } else if (cur && line.startsWith(':')) {
      const [name, policy] = line.slice(1).split(/\s+/);
      cur.chains.push(name);
      if (BUILTIN.has(name)) cur.policies[name] = policy;
    } else if (cur && line.startsWith('-A ')) {
      cur.rules.push(line);
    }
  }
  // A table holding only built-in chains with ACCEPT policy and no rules is the same as no
  // table: the legacy backend cannot unload a table module once a tool has touched it.
  for (const [name, t] of Object.entries(tables)) {
    const empty = t.rules.length === 0 && t.chains.every((c) => BUILTIN.has(c) && t.policies[c] === 'ACCEPT');
    if (empty) delete tables[name];
  }
  return tables;
}

function readSysctl(key) {
  try {
    return fs.readFileSync(path.join('/proc/sys', key), 'utf8').trim();
  } catch {
    return null;
  }
}

function snapshotNow() {
  const state = { sysctl: {}, iptables: {}, nftTables: [], links: [] };
  for (const key of SYSCTLS) state.sysctl[key] = readSysctl(key);
  for (const b of BACKENDS) {
    const r = run(b.save, []);
    state.iptables[b.key] = r.ok ? parseSave(r.out) : { error: r.err.trim() };
  }
  const nft = run('nft', ['list', 'tables']);
  state.nftTables = nft.ok ? nft.out.split('\n').map((l) => l.trim()).filter(Boolean).sort() : [];
  const links = JSON.parse(execFileSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' }));
  state.links = links.map((l) => l.ifname).sort();
  return state;
}

function load(dir) {
  return JSON.parse(fs.readFileSync(path.join(dir, 'state.json'), 'utf8'));
}

/** Lines describing a state, for a readable diff. */
function describe(state) {
  const lines = [];
  for (const [k, v] of Object.entries(state.sysctl)) lines.push(`sysctl ${k}=${v}`);
  for (const [bk, tables] of Object.entries(state.iptables)) {
    if (tables.error) continue; // a backend absent on this host both times
    for (const [tn, t] of Object.entries(tables)) {
      for (const c of t.chains) lines.push(`${bk} ${tn} chain ${c} ${t.policies[c] ?? '-'}`);
      for (const r of t.rules) lines.push(`${bk} ${tn} ${r}`);
    }
  }
  for (const t of state.nftTables) lines.push(`nft ${t}`);
  for (const l of state.links) lines.push(`link ${l}`);
  return lines;
}

function diff(a, b) {
  const la = describe(a);
  const lb = describe(b);
  const sb = new Set(lb);
  const sa = new Set(la);
  return {
    removed: la.filter((l) => !sb.has(l)),
    added: lb.filter((l) => !sa.has(l)),
  };
}

function restore(before) {
  const problems = [];
  const now = snapshotNow();

  // Links first: a bridge removed takes its routes along; container veths are gone once
  // dockerd has stopped its containers, but a killed dockerd may leave some behind.
  const linksBefore = new Set(before.links);
  const newLinks = now.links.filter((l) => !linksBefore.has(l));
  const ipLinks = JSON.parse(execFileSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' }));
  const dockerBridges = new Set(newLinks.filter((l) => DOCKER_LINK.test(l)));
  for (const l of ipLinks) {
    if (!linksBefore.has(l.ifname) && l.master && dockerBridges.has(l.master)) {
      const r = run('ip', ['link', 'del', l.ifname]);
      if (!r.ok) problems.push(`ip link del ${l.ifname}: ${r.err.trim()}`);
    }
  }
  for (const l of dockerBridges) {
    const r = run('ip', ['link', 'del', l]);
    if (!r.ok) problems.push(`ip link del ${l}: ${r.err.trim()}`);
  }

  for (const b of BACKENDS) {
    const cur = now.iptables[b.key];
    const old = before.iptables[b.key] || {};
    if (!cur || cur.error) continue;
    for (const [tn, t] of Object.entries(cur)) {
      const ot = old[tn] || { policies: {}, chains: [], rules: [] };
      const oldChains = new Set(ot.chains);
      const oldRules = new Set(ot.rules);
      const newDockerChains = t.chains.filter((c) => !oldChains.has(c) && !BUILTIN.has(c) && DOCKERISH.test(c));
      const dropChains = new Set(newDockerChains);
      const script = [`*${tn}`];
      for (const r of t.rules) {
        const chain = r.split(/\s+/)[1];
        if (oldRules.has(r) || dropChains.has(chain) || !DOCKERISH.test(r)) continue;
        script.push(`-D ${r.slice(3)}`);
      }
      for (const c of newDockerChains) script.push(`-F ${c}`);
      for (const c of newDockerChains) script.push(`-X ${c}`);
      for (const [c, p] of Object.entries(t.policies)) {
        const want = ot.policies[c] ?? 'ACCEPT';
        if (p !== want) script.push(`-P ${c} ${want}`);
      }
      script.push('COMMIT', '');
      if (script.length <= 3) continue;
      const r = run(b.restore, ['--noflush'], script.join('\n'));
      if (!r.ok) problems.push(`${b.restore} (${tn}): ${r.err.trim()}\n${script.join('\n')}`);
    }
  }

  // iptables-nft leaves empty tables behind; delete those that did not exist before and are
  // now empty (only built-in chains, no rules), so `nft list tables` matches too.
  const oldNft = new Set(before.nftTables);
  const after = snapshotNow();
  for (const b of BACKENDS) {
    if (!b.nftFamily) continue;
    const cur = after.iptables[b.key];
    if (!cur || cur.error) continue;
    for (const line of after.nftTables) {
      const [, fam, name] = line.split(/\s+/);
      if (fam !== b.nftFamily || oldNft.has(line)) continue;
      if (cur[name]) continue; // still holds rules or chains: not ours to drop
      const r = run('nft', ['delete', 'table', fam, name]);
      if (!r.ok) problems.push(`nft delete table ${fam} ${name}: ${r.err.trim()}`);
    }
  }

  for (const key of SYSCTLS) {
    const want = before.sysctl[key];
    if (want !== null && readSysctl(key) !== want) {
      try {
        fs.writeFileSync(path.join('/proc/sys', key), want);
      } catch (e) {
        problems.push(`sysctl ${key}: ${e.message}`);
      }
    }
  }
  return problems;
}

function main(argv) {
  const [cmd, dir, dir2] = argv;
  if (cmd === 'snapshot' && dir) {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'state.json'), JSON.stringify(snapshotNow(), null, 1));
    return 0;
  }
  if (cmd === 'restore' && dir) {
    const problems = restore(load(dir));
    for (const p of problems) process.stderr.write(`docker-state: ${p}\n`);
    // What still differs is not Docker's (other processes on the host change their own
    // rules and links meanwhile); shown so that a surprise is visible.
    const d = diff(load(dir), snapshotNow());
    const n = d.removed.length + d.added.length;
    if (n > 0) process.stderr.write(`docker-state: Docker's changes undone; ${n} other differences since the snapshot (run with LATERAL_DOCKER_STATE_VERBOSE=1 to list)\n`);
    if (process.env.LATERAL_DOCKER_STATE_VERBOSE) {
      for (const l of d.removed) process.stderr.write(`docker-state: missing since snapshot: ${l}\n`);
      for (const l of d.added) process.stderr.write(`docker-state: added since snapshot: ${l}\n`);
    }
    return problems.length === 0 ? 0 : 1;
  }
  if (cmd === 'compare' && dir) {
    const d = diff(load(dir), dir2 ? load(dir2) : snapshotNow());
    process.stdout.write(JSON.stringify(d, null, 1) + '\n');
    return d.removed.length + d.added.length === 0 ? 0 : 1;
  }
  process.stderr.write('usage: docker-state.js snapshot|restore|compare DIR [DIR2]\n');
  return 2;
}

if (require.main === module) process.exit(main(process.argv.slice(2)));
module.exports = { snapshotNow, diff, restore, parseSave };
