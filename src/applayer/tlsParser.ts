// TLS record and handshake parsing (RFC 5246, RFC 8446) for what rules and EVE use:
// ClientHello SNI (`tls.sni`, RFC 6066 §3), the negotiated version (`tls.version`, with
// the supported_versions extension of RFC 8446 §4.2.1), the server certificate's subject
// and issuer (`tls.cert_subject`, `tls.cert_issuer`), and heartbeat records (RFC 6520)
// with their claimed payload length, which is how Heartbleed shows (claimed > actual).
// Records and handshake messages are reassembled across any split, within fixed bounds;
// after ChangeCipherSpec a direction is encrypted and only record headers are followed.
//
// `handshakeDone` follows Suricata 7 (app-layer-ssl.c, SSLV3_APPLICATION_PROTOCOL): the first
// application-data record in either direction ends the handshake, except 0-RTT early data
// (RFC 8446 §2.3) sent before the ServerHello. The verdict stage reads it for
// `encryption-handling: bypass`.
//
// JA3 / JA3S fingerprints (github.com/salesforce/ja3) are built once per hello, at handshake
// time: "version,ciphers,extensions,groups,point_formats" (JA3S: "version,cipher,extensions"),
// decimal values joined by '-', GREASE values (RFC 8701) left out, and the MD5 of that string
// in lowercase hex — Suricata's ja3.hash / ja3.string / ja3s.hash / ja3s.string buffers.
import { createHash } from 'node:crypto';
import type { AppLayerCounters } from './appLayerCounters';
import { parseX509Names } from './x509Name';

const CT_CCS = 20;
const CT_ALERT = 21;
const CT_HANDSHAKE = 22;
const CT_APPDATA = 23;
const CT_HEARTBEAT = 24;

const HS_CLIENT_HELLO = 1;
const HS_SERVER_HELLO = 2;
const HS_CERTIFICATE = 11;

const MAX_RECORD = 16384 + 2048;
const MAX_HANDSHAKE = 256 * 1024;
const MAX_HEARTBEATS = 64;
// Certificates kept per flow: a server may send Certificate messages again and again
// (renegotiation, or on purpose), so the list is bounded like everything else; real chains
// are a handful of certificates and well under 64 KiB.
const MAX_CERTIFICATES = 16;
const MAX_CERTIFICATE_BYTES = MAX_HANDSHAKE;

export interface TlsHeartbeat {
  toServer: boolean;
  /** 1 request, 2 response; 0 when encrypted (after ChangeCipherSpec). */
  type: number;
  /** Bytes in the record. */
  recordLength: number;
  /** payload_length the message claims (meaningless when encrypted). */
  payloadLength: number;
}

/** Suricata's names for TLS versions (EVE `tls.version`). */
export function tlsVersionName(v: number): string {
  switch (v) {
    case 0x0200: return 'SSLv2';
    case 0x0300: return 'SSLv3';
    case 0x0301: return 'TLSv1';
    case 0x0302: return 'TLS 1.1';
    case 0x0303: return 'TLS 1.2';
    case 0x0304: return 'TLS 1.3';
    default: return v ? `0x${v.toString(16).padStart(4, '0')}` : 'UNDETERMINED';
  }
}

class TlsDirection {
  hdr = new Uint8Array(5);
  hdrLen = 0;
  rec = new Uint8Array(MAX_RECORD);
  recLen = 0;
  recNeed = 0;
  recType = 0;
  hs = new Uint8Array(0);
  hsLen = 0;
  encrypted = false;
  failed = false;
}

export class TlsParser {
  /** ClientHello SNI as sent, or null. */
  sni: Uint8Array | null = null;
  /** ClientHello legacy_version. */
  clientVersion = 0;
  /** Version chosen by the server (supported_versions if present), 0 until ServerHello. */
  version = 0;
  certSubject: string | null = null;
  certIssuer: string | null = null;
  /** DER of each certificate the server sent (chain order), bounded by the handshake limit. */
  certificates: Uint8Array[] = [];
  private certificateBytes = 0;
  heartbeats: TlsHeartbeat[] = [];
  clientHelloSeen = false;
  serverHelloSeen = false;
  /** The ClientHello offered 0-RTT data (early_data extension, RFC 8446 §4.2.10). */
  earlyData = false;
  /** Encrypted application data flows: the handshake is over (see the file header). */
  handshakeDone = false;
  /** JA3 string / MD5 hex of the ClientHello (ASCII bytes), null until one is parsed. */
  ja3String: Uint8Array | null = null;
  ja3Hash: Uint8Array | null = null;
  /** JA3S string / MD5 hex of the ServerHello, null until one is parsed. */
  ja3sString: Uint8Array | null = null;
  ja3sHash: Uint8Array | null = null;
  private readonly ts = new TlsDirection();
  private readonly tc = new TlsDirection();

  constructor(private readonly counters: AppLayerCounters) {}

  feed(toServer: boolean, data: Uint8Array, start = 0, end = data.length): void {
    const d = toServer ? this.ts : this.tc;
    let p = start;
    while (p < end && !d.failed) {
      if (d.hdrLen < 5) {
        const n = Math.min(5 - d.hdrLen, end - p);
        d.hdr.set(data.subarray(p, p + n), d.hdrLen);
        d.hdrLen += n;
        p += n;
        if (d.hdrLen < 5) return;
        d.recType = d.hdr[0]!;
        d.recNeed = (d.hdr[3]! << 8) | d.hdr[4]!;
        d.recLen = 0;
        if (d.recType < CT_CCS || d.recType > CT_HEARTBEAT || d.hdr[1] !== 3 || d.recNeed > MAX_RECORD) {
          this.counters.tlsMalformed++;
          d.failed = true;
          return;
        }
      }
      const n = Math.min(d.recNeed - d.recLen, end - p);
      d.rec.set(data.subarray(p, p + n), d.recLen);
      d.recLen += n;
      p += n;
      if (d.recLen === d.recNeed) {
        this.counters.tlsRecords++;
        this.onRecord(toServer, d, d.rec.subarray(0, d.recLen));
        d.hdrLen = 0;
      }
    }
  }

  private onRecord(toServer: boolean, d: TlsDirection, body: Uint8Array): void {
    switch (d.recType) {
      case CT_CCS:
        d.encrypted = true;
        return;
      case CT_HANDSHAKE:
        if (!d.encrypted) this.handshakeBytes(toServer, d, body);
        return;
      case CT_HEARTBEAT:
        this.counters.tlsHeartbeats++;
        if (this.heartbeats.length < MAX_HEARTBEATS) {
          this.heartbeats.push({
            toServer,
            type: d.encrypted || body.length < 3 ? 0 : body[0]!,
            recordLength: body.length,
            payloadLength: body.length >= 3 ? (body[1]! << 8) | body[2]! : 0,
          });
        }
        return;
      case CT_APPDATA:
        if (!this.earlyData || this.serverHelloSeen) this.handshakeDone = true;
        return;
      case CT_ALERT:
      default:
        return;
    }
  }

  private handshakeBytes(toServer: boolean, d: TlsDirection, body: Uint8Array): void {
    if (d.hsLen + body.length > MAX_HANDSHAKE) {
      this.counters.tlsMalformed++;
      d.encrypted = true; // stop handshake parsing; record framing continues
      return;
    }
    if (d.hs.length < d.hsLen + body.length) {
      const nb = new Uint8Array(Math.max(d.hsLen + body.length, d.hs.length * 2, 4096));
      nb.set(d.hs.subarray(0, d.hsLen));
      d.hs = nb;
    }
    d.hs.set(body, d.hsLen);
    d.hsLen += body.length;
    let off = 0;
    while (d.hsLen - off >= 4) {
      const type = d.hs[off]!;
      const len = (d.hs[off + 1]! << 16) | (d.hs[off + 2]! << 8) | d.hs[off + 3]!;
      if (len > MAX_HANDSHAKE) {
        this.counters.tlsMalformed++;
        d.encrypted = true;
        d.hsLen = 0;
        return;
      }
      if (d.hsLen - off < 4 + len) break;
      this.onHandshake(toServer, type, d.hs.subarray(off + 4, off + 4 + len));
      off += 4 + len;
    }
    d.hs.copyWithin(0, off, d.hsLen);
    d.hsLen -= off;
  }

  private onHandshake(toServer: boolean, type: number, m: Uint8Array): void {
    try {
      if (toServer && type === HS_CLIENT_HELLO) this.clientHello(m);
      else if (!toServer && type === HS_SERVER_HELLO) this.serverHello(m);
      else if (!toServer && type === HS_CERTIFICATE) this.certificate(m);
    } catch {
      // A truncated field inside a message: counted, the connection goes on.
      this.counters.tlsMalformed++;
    }
  }

  private static u16(m: Uint8Array, o: number): number {
    if (o + 2 > m.length) throw new RangeError('short');
    return (m[o]! << 8) | m[o + 1]!;
  }

  private clientHello(m: Uint8Array): void {
    const u16 = TlsParser.u16;
    this.clientHelloSeen = true;
    this.clientVersion = u16(m, 0);
    let o = 2 + 32;
    if (o >= m.length) throw new RangeError('short');
    o += 1 + m[o]!; // session id
    const cipherLen = u16(m, o);
    if (o + 2 + cipherLen > m.length) throw new RangeError('short');
    const ciphers = u16List(m, o + 2, o + 2 + cipherLen);
    o += 2 + cipherLen; // cipher suites
    if (o >= m.length) throw new RangeError('short');
    o += 1 + m[o]!; // compression methods
    const extensions: number[] = [];
    let groups: number[] = [];
    let pointFormats: number[] = [];
    if (o + 2 <= m.length) {
      const extEnd = Math.min(m.length, o + 2 + u16(m, o));
      o += 2;
      while (o + 4 <= extEnd) {
        const et = u16(m, o);
        const el = u16(m, o + 2);
        const es = o + 4;
        if (es + el > extEnd) throw new RangeError('short');
        if (!isGrease(et)) extensions.push(et);
        if (et === 0) {
          // server_name: list length, then (type, length, name)*; host_name is type 0.
          let p = es + 2;
          while (p + 3 <= es + el) {
            const nt = m[p]!;
            const nl = u16(m, p + 1);
            if (p + 3 + nl > es + el) throw new RangeError('short');
            if (nt === 0 && this.sni === null) this.sni = m.slice(p + 3, p + 3 + nl);
            p += 3 + nl;
          }
        } else if (et === 10 && el >= 2) {
          // supported_groups (elliptic curves): a u16 length, then u16 values.
          groups = u16List(m, es + 2, Math.min(es + el, es + 2 + u16(m, es)));
        } else if (et === 11 && el >= 1) {
          // ec_point_formats: a u8 length, then u8 values.
          pointFormats = Array.from(m.subarray(es + 1, Math.min(es + el, es + 1 + m[es]!)));
        } else if (et === 42) {
          this.earlyData = true;
        }
        o = es + el;
      }
    }
    if (this.ja3String === null) {
      const text = `${this.clientVersion},${ciphers.join('-')},${extensions.join('-')},${groups.join('-')},${pointFormats.join('-')}`;
      this.ja3String = ascii(text);
      this.ja3Hash = ascii(createHash('md5').update(text).digest('hex'));
    }
  }

  private serverHello(m: Uint8Array): void {
    const u16 = TlsParser.u16;
    this.serverHelloSeen = true;
    const legacyVersion = u16(m, 0);
    this.version = legacyVersion;
    let o = 2 + 32;
    if (o >= m.length) throw new RangeError('short');
    o += 1 + m[o]!;
    const cipher = u16(m, o);
    o += 2 + 1; // cipher suite, compression method
    const extensions: number[] = [];
    if (o + 2 <= m.length) {
      const extEnd = Math.min(m.length, o + 2 + u16(m, o));
      o += 2;
      while (o + 4 <= extEnd) {
        const et = u16(m, o);
        const el = u16(m, o + 2);
        if (!isGrease(et)) extensions.push(et);
        if (et === 43 && el === 2) this.version = u16(m, o + 4); // supported_versions
        o += 4 + el;
      }
    }
    if (this.ja3sString === null) {
      // JA3S uses the ServerHello's legacy version field, not supported_versions.
      const text = `${legacyVersion},${cipher},${extensions.join('-')}`;
      this.ja3sString = ascii(text);
      this.ja3sHash = ascii(createHash('md5').update(text).digest('hex'));
    }
  }

  private certificate(m: Uint8Array): void {
    if (m.length < 3) throw new RangeError('short');
    const total = (m[0]! << 16) | (m[1]! << 8) | m[2]!;
    let o = 3;
    const end = Math.min(m.length, 3 + total);
    while (o + 3 <= end) {
      const cl = (m[o]! << 16) | (m[o + 1]! << 8) | m[o + 2]!;
      if (o + 3 + cl > end) throw new RangeError('short');
      if (this.certificates.length < MAX_CERTIFICATES && this.certificateBytes + cl <= MAX_CERTIFICATE_BYTES) {
        this.certificates.push(m.slice(o + 3, o + 3 + cl));
        this.certificateBytes += cl;
      } else {
        this.counters.tlsCertificatesDropped++;
      }
      o += 3 + cl;
    }
    const first = this.certificates[0];
    if (first && this.certSubject === null) {
      const names = parseX509Names(first);
      if (names) {
        this.certSubject = names.subject;
        this.certIssuer = names.issuer;
      } else {
        this.counters.tlsMalformed++;
      }
    }
  }
}

/** GREASE values (RFC 8701): 0x?a?a with both bytes equal; JA3 leaves them out. */
function isGrease(v: number): boolean {
  return (v & 0x0f0f) === 0x0a0a && (v >> 8) === (v & 0xff);
}

/** Big-endian u16 values of m[start, end) (an odd trailing byte is ignored), GREASE left out. */
function u16List(m: Uint8Array, start: number, end: number): number[] {
  const out: number[] = [];
  for (let i = start; i + 2 <= end && i + 2 <= m.length; i += 2) {
    const v = (m[i]! << 8) | m[i + 1]!;
    if (!isGrease(v)) out.push(v);
  }
  return out;
}

function ascii(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s, 'latin1'));
}
