// Minimal DER reading of an X.509 certificate (RFC 5280 §4.1), enough for the subject and
// issuer Names as Suricata 7 prints them in `tls.cert_subject` / `tls.cert_issuer` and EVE
// `tls.subject` / `tls.issuerdn`: RDNs in certificate order joined by ", ", each "SN=value"
// (multi-valued RDNs joined by " + "), unknown attribute types as the dotted OID.
// Returns null on any malformed input rather than throwing.

const ATTR_NAMES: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.4': 'SN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'street',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.12': 'title',
  '2.5.4.42': 'GN',
  '0.9.2342.19200300.100.1.25': 'DC',
  '0.9.2342.19200300.100.1.1': 'UID',
  '1.2.840.113549.1.9.1': 'emailAddress',
};

interface Tlv {
  tag: number;
  start: number; // content start
  end: number; // content end
}

function readTlv(d: Uint8Array, off: number, limit: number): Tlv | null {
  if (off + 2 > limit) return null;
  const tag = d[off]!;
  let len = d[off + 1]!;
  let p = off + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 3 || p + n > limit) return null;
    len = 0;
    for (let i = 0; i < n; i++) len = (len << 8) | d[p + i]!;
    p += n;
  }
  if (p + len > limit) return null;
  return { tag, start: p, end: p + len };
}

function oidToString(d: Uint8Array, s: number, e: number): string {
  if (e <= s) return '';
  const parts: number[] = [];
  const first = d[s]!;
  parts.push(first < 80 ? Math.floor(first / 40) : 2, first < 80 ? first % 40 : first - 80);
  let v = 0;
  for (let i = s + 1; i < e; i++) {
    v = v * 128 + (d[i]! & 0x7f);
    if ((d[i]! & 0x80) === 0) {
      parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

function stringValue(d: Uint8Array, t: Tlv): string {
  const b = Buffer.from(d.buffer, d.byteOffset + t.start, t.end - t.start);
  if (t.tag === 0x0c) return b.toString('utf8'); // UTF8String
  if (t.tag === 0x1e) {
    // BMPString: UTF-16BE. An odd length is malformed; swap16 would throw on it, so the
    // stray last byte is left out.
    const sw = Buffer.from(b.subarray(0, b.length & ~1));
    sw.swap16();
    return sw.toString('utf16le');
  }
  return b.toString('latin1'); // Printable, IA5, T61, Visible...
}

/** Formats a DER Name (SEQUENCE OF RDN) at d[t.start..t.end). */
function formatName(d: Uint8Array, name: Tlv): string | null {
  const rdns: string[] = [];
  let off = name.start;
  while (off < name.end) {
    const set = readTlv(d, off, name.end);
    if (!set || set.tag !== 0x31) return null;
    const atvs: string[] = [];
    let a = set.start;
    while (a < set.end) {
      const seq = readTlv(d, a, set.end);
      if (!seq || seq.tag !== 0x30) return null;
      const oid = readTlv(d, seq.start, seq.end);
      if (!oid || oid.tag !== 0x06) return null;
      const val = readTlv(d, oid.end, seq.end);
      if (!val) return null;
      const o = oidToString(d, oid.start, oid.end);
      atvs.push(`${ATTR_NAMES[o] ?? o}=${stringValue(d, val)}`);
      a = seq.end;
    }
    rdns.push(atvs.join(' + '));
    off = set.end;
  }
  return rdns.join(', ');
}

export interface X509Names {
  subject: string;
  issuer: string;
}

/** Subject and issuer of a DER certificate, or null if it does not parse. */
export function parseX509Names(der: Uint8Array): X509Names | null {
  const cert = readTlv(der, 0, der.length);
  if (!cert || cert.tag !== 0x30) return null;
  const tbs = readTlv(der, cert.start, cert.end);
  if (!tbs || tbs.tag !== 0x30) return null;
  let off = tbs.start;
  let f = readTlv(der, off, tbs.end);
  if (!f) return null;
  if (f.tag === 0xa0) {
    // [0] EXPLICIT version
    off = f.end;
    f = readTlv(der, off, tbs.end);
    if (!f) return null;
  }
  // serialNumber, signature AlgorithmIdentifier, issuer, validity, subject
  off = f.end; // after serial
  const sigAlg = readTlv(der, off, tbs.end);
  if (!sigAlg) return null;
  const issuer = readTlv(der, sigAlg.end, tbs.end);
  if (!issuer || issuer.tag !== 0x30) return null;
  const validity = readTlv(der, issuer.end, tbs.end);
  if (!validity) return null;
  const subject = readTlv(der, validity.end, tbs.end);
  if (!subject || subject.tag !== 0x30) return null;
  const s = formatName(der, subject);
  const i = formatName(der, issuer);
  if (s === null || i === null) return null;
  return { subject: s, issuer: i };
}
