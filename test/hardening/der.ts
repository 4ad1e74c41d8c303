// Builds DER (X.690) and TLS handshake bytes for the hardening tests: just enough to make
// certificates whose Names, lengths and string types the tests choose.

export function tlv(tag: number, body: Uint8Array): Uint8Array {
  const l = body.length;
  const head = l < 0x80 ? [tag, l] : l < 0x100 ? [tag, 0x81, l] : l < 0x10000 ? [tag, 0x82, l >> 8, l & 0xff] : [tag, 0x83, l >> 16, (l >> 8) & 0xff, l & 0xff];
  return Uint8Array.from([...head, ...body]);
}

export function cat(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts));
}

/** A Name with one RDN per [oid bytes, string tag, value bytes]. */
export function derName(attrs: Array<[number[], number, Uint8Array]>): Uint8Array {
  return tlv(0x30, cat(...attrs.map(([oid, tag, v]) => tlv(0x31, tlv(0x30, cat(tlv(0x06, Uint8Array.from(oid)), tlv(tag, v)))))));
}

export const OID_CN = [0x55, 4, 3];
export const OID_O = [0x55, 4, 10];

/** A certificate skeleton: version, serial, sigAlg, issuer, validity, subject (no key, no signature). */
export function derCertificate(issuer: Uint8Array, subject: Uint8Array): Uint8Array {
  const tbs = tlv(0x30, cat(
    tlv(0xa0, tlv(0x02, Uint8Array.of(2))),
    tlv(0x02, Uint8Array.of(1)),
    tlv(0x30, tlv(0x06, Uint8Array.of(0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 1, 1, 11))),
    issuer,
    tlv(0x30, new Uint8Array(0)),
    subject,
  ));
  return tlv(0x30, tbs);
}

function u24(n: number): number[] {
  return [(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
}

/** A TLS Certificate handshake message (RFC 5246 §7.4.2) carrying the given DER certificates. */
export function tlsCertificateMessage(certs: Uint8Array[]): Uint8Array {
  const list = cat(...certs.map((c) => cat(Uint8Array.from(u24(c.length)), c)));
  const body = cat(Uint8Array.from(u24(list.length)), list);
  return cat(Uint8Array.from([11, ...u24(body.length)]), body);
}

/** Wraps handshake bytes in TLS records of at most `max` bytes each. */
export function tlsRecords(type: number, payload: Uint8Array, max = 16384): Uint8Array {
  const out: Uint8Array[] = [];
  for (let o = 0; o < payload.length || o === 0; o += max) {
    const part = payload.subarray(o, Math.min(payload.length, o + max));
    out.push(Uint8Array.from([type, 3, 3, part.length >> 8, part.length & 0xff]), part);
    if (payload.length === 0) break;
  }
  return cat(...out);
}
