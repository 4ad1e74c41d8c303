// The live map page served at GET /: one self-contained HTML document (inline CSS and JS, no
// CDN, works offline). It polls /api/map every 2 s and draws containers on a circle with
// their flows as arrows (width by byte rate, red when they carried blocked traffic) and the
// latest alerts. Container names come from the workload, so everything is inserted with
// textContent/setAttribute, never innerHTML.

export const mapPageHtml = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Lateral — live map</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { margin: 0; font: 13px/1.4 system-ui, sans-serif; background: #111418; color: #d8dde3; display: grid; grid-template-columns: 1fr 430px; grid-template-rows: auto 1fr; height: 100vh; }
  header { grid-column: 1 / 3; padding: 8px 14px; background: #1b2027; display: flex; gap: 18px; align-items: baseline; }
  header h1 { font-size: 15px; margin: 0; }
  #status.stale { color: #f0a020; }
  main { position: relative; overflow: hidden; }
  svg { width: 100%; height: 100%; }
  .node circle { fill: #2a6fdb; stroke: #9cc0ff; stroke-width: 1.5; }
  .node.alerted circle { fill: #b8342b; stroke: #ff9a8f; }
  .node text { fill: #e8edf2; font-size: 12px; text-anchor: middle; }
  .node .sub { fill: #8a96a3; font-size: 10px; }
  .edge line { stroke: #5d7a95; marker-end: url(#arrow); }
  .edge.blocked line { stroke: #e5483c; marker-end: url(#arrowRed); stroke-dasharray: 6 3; }
  .edge text { fill: #b9c4cf; font-size: 10px; text-anchor: middle; }
  aside { overflow-y: auto; background: #161a20; border-left: 1px solid #262c35; padding: 0 10px; }
  aside h2 { font-size: 13px; margin: 10px 0 6px; }
  table { width: 100%; border-collapse: collapse; font-size: 12px; }
  td, th { text-align: left; padding: 3px 4px; border-bottom: 1px solid #242a32; vertical-align: top; }
  tr.blocked td.action { color: #ff6b5e; font-weight: 600; }
  .empty { color: #6d7884; padding: 20px; }
</style>
</head>
<body>
<header><h1>Lateral — east-west traffic</h1><span id="summary">loading…</span><span id="status"></span></header>
<main><svg id="map" viewBox="0 0 1000 700" preserveAspectRatio="xMidYMid meet">
  <defs>
    <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerUnits="userSpaceOnUse" markerWidth="12" markerHeight="12" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#5d7a95"/></marker>
    <marker id="arrowRed" viewBox="0 0 10 10" refX="10" refY="5" markerUnits="userSpaceOnUse" markerWidth="12" markerHeight="12" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#e5483c"/></marker>
  </defs>
  <g id="edges"></g><g id="nodes"></g>
</svg><div id="empty" class="empty" hidden>No traffic seen yet.</div></main>
<aside><h2>Latest alerts</h2>
<table><thead><tr><th>time</th><th>action</th><th>from → to</th><th>signature</th></tr></thead><tbody id="alerts"></tbody></table>
</aside>
<script>
"use strict";
const NS = "http://www.w3.org/2000/svg";
const W = 1000, H = 700, R = 20;
function el(name, attrs, text) {
  const e = document.createElementNS(NS, name);
  for (const k in attrs) e.setAttribute(k, String(attrs[k]));
  if (text !== undefined) e.textContent = text;
  return e;
}
function rate(bps) {
  const u = ["B/s", "KB/s", "MB/s", "GB/s"]; let i = 0;
  while (bps >= 1000 && i < u.length - 1) { bps /= 1000; i++; }
  return bps.toFixed(bps < 10 && i > 0 ? 1 : 0) + " " + u[i];
}
function layout(nodes) {
  const pos = new Map(), n = nodes.length, cx = W / 2, cy = H / 2;
  const r = n <= 1 ? 0 : Math.min(W, H) / 2 - 70;
  nodes.forEach((node, i) => {
    const a = (2 * Math.PI * i) / Math.max(n, 1) - Math.PI / 2;
    pos.set(node.id, { x: cx + r * Math.cos(a), y: cy + r * Math.sin(a) });
  });
  return pos;
}
function draw(data) {
  const edgesG = document.getElementById("edges"), nodesG = document.getElementById("nodes");
  edgesG.replaceChildren(); nodesG.replaceChildren();
  document.getElementById("empty").hidden = data.nodes.length > 0;
  const pos = layout(data.nodes);
  const maxRate = Math.max(1, ...data.edges.map((e) => e.bytesPerSec));
  for (const e of data.edges) {
    const a = pos.get(e.src), b = pos.get(e.dst);
    if (!a || !b) continue;
    const dx = b.x - a.x, dy = b.y - a.y, len = Math.hypot(dx, dy) || 1;
    // Offset both directions of a pair sideways so they don't overlap.
    const ox = (-dy / len) * 6, oy = (dx / len) * 6;
    const x1 = a.x + (dx / len) * R + ox, y1 = a.y + (dy / len) * R + oy;
    const x2 = b.x - (dx / len) * R + ox, y2 = b.y - (dy / len) * R + oy;
    const g = el("g", { class: "edge" + (e.blocked ? " blocked" : ""), "data-edge": e.src + "->" + e.dst, "data-blocked": e.blocked, "data-rate": e.bytesPerSec });
    g.appendChild(el("line", { x1, y1, x2, y2, "stroke-width": 1 + 5 * Math.sqrt(e.bytesPerSec / maxRate) }));
    const label = rate(e.bytesPerSec) + (e.appProtos.length ? " " + e.appProtos.join(",") : "") + (e.blockedPackets ? ", " + e.blockedPackets + " blocked" : "");
    g.appendChild(el("text", { x: (x1 + x2) / 2 + ox * 2, y: (y1 + y2) / 2 + oy * 2 }, label));
    g.appendChild(el("title", {}, e.src + " → " + e.dst + ": " + e.packets + " packets, " + e.bytes + " bytes, " + e.flows + " flows, " + e.alerts + " alerts"));
    edgesG.appendChild(g);
  }
  for (const n of data.nodes) {
    const p = pos.get(n.id);
    const g = el("g", { class: "node" + (n.alerts > 0 ? " alerted" : ""), "data-node": n.id, transform: "translate(" + p.x + "," + p.y + ")" });
    g.appendChild(el("circle", { r: R }));
    g.appendChild(el("text", { y: R + 14 }, n.id));
    if (n.image || n.network) g.appendChild(el("text", { class: "sub", y: R + 26 }, [n.image, n.network].filter(Boolean).join(" · ")));
    nodesG.appendChild(g);
  }
  const tbody = document.getElementById("alerts");
  tbody.replaceChildren();
  for (const a of data.alerts) {
    const tr = document.createElement("tr");
    tr.className = a.action;
    tr.setAttribute("data-sid", a.sid);
    const cells = [a.timestamp.slice(11, 19), a.action, a.srcContainer + " → " + a.destContainer + ":" + a.destPort, "[" + a.sid + "] " + a.signature];
    cells.forEach((t, i) => { const td = document.createElement("td"); td.textContent = t; if (i === 1) td.className = "action"; tr.appendChild(td); });
    tbody.appendChild(tr);
  }
  const blocked = data.edges.filter((e) => e.blocked).length;
  document.getElementById("summary").textContent = data.nodes.length + " containers, " + data.edges.length + " flows between them, " + blocked + " with blocked traffic, " + data.alerts.length + " recent alerts";
  const st = document.getElementById("status");
  st.textContent = "updated " + data.generatedAt.slice(11, 19) + " UTC";
  st.className = "";
  document.body.setAttribute("data-generated", data.generatedAt);
}
async function poll() {
  try {
    const r = await fetch("api/map", { cache: "no-store" });
    if (!r.ok) throw new Error("HTTP " + r.status);
    draw(await r.json());
  } catch (err) {
    const st = document.getElementById("status");
    st.textContent = "not updating: " + err.message;
    st.className = "stale";
  }
}
poll();
setInterval(poll, 2000);
</script>
</body>
</html>
`;
