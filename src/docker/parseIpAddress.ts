// Text IP addresses (as the Docker API gives them) to the 16-byte form of src/decode/packet.ts:
// IPv6 as is, IPv4 mapped to ::ffff:a.b.c.d (RFC 4291 §2.5.5.2). Cold path.

/** Writes the address into out (16 bytes); returns false when text is not an IP address. */
export function parseIpAddress(text: string, out: Uint8Array): boolean {
  out.fill(0);
  if (text.includes(':')) return parseIpv6(text, out);
  const v4 = parseIpv4(text);
  if (v4 < 0) return false;
  out[10] = 0xff;
  out[11] = 0xff;
  out[12] = v4 >>> 24;
  out[13] = (v4 >>> 16) & 0xff;
  out[14] = (v4 >>> 8) & 0xff;
  out[15] = v4 & 0xff;
  return true;
}

/** Dotted quad to an unsigned 32-bit number, -1 when malformed. */
export function parseIpv4(text: string): number {
  const parts = text.split('.');
  if (parts.length !== 4) return -1;
  let v = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return -1;
    const n = Number(p);
    if (n > 255) return -1;
    v = v * 256 + n;
  }
  return v;
}

function parseIpv6(text: string, out: Uint8Array): boolean {
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  const halves = text.split('::');
  if (halves.length > 2) return false;
  const groups = (s: string): number[] | null => {
    if (s === '') return [];
    const res: number[] = [];
    const items = s.split(':');
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      if (i === items.length - 1 && item.includes('.')) {
        const v4 = parseIpv4(item);
        if (v4 < 0) return null;
        res.push(v4 >>> 16, v4 & 0xffff);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(item)) return null;
        res.push(parseInt(item, 16));
      }
    }
    return res;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (!head || !tail) return false;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return false;
  const all = [...head, ...new Array<number>(missing).fill(0), ...tail];
  for (let i = 0; i < 8; i++) {
    out[i * 2] = all[i] >>> 8;
    out[i * 2 + 1] = all[i] & 0xff;
  }
  return true;
}

/** True when the 16 bytes at offset hold an IPv4-mapped address. */
export function isIpv4Mapped(addr: Uint8Array, offset = 0): boolean {
  for (let i = 0; i < 10; i++) if (addr[offset + i] !== 0) return false;
  return addr[offset + 10] === 0xff && addr[offset + 11] === 0xff;
}

/** The address as text: dotted quad for IPv4-mapped, RFC 5952 style otherwise. Cold path. */
export function formatIpAddress(addr: Uint8Array, offset = 0): string {
  if (isIpv4Mapped(addr, offset)) {
    return `${addr[offset + 12]}.${addr[offset + 13]}.${addr[offset + 14]}.${addr[offset + 15]}`;
  }
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((addr[offset + i * 2] << 8) | addr[offset + i * 2 + 1]);
  // RFC 5952 §4.2: shorten the longest run (≥ 2) of zero groups, the first on a tie.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}
