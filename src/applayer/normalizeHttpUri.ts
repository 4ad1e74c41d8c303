// HTTP request-URI normalisation as Suricata 7 builds `http.uri` with libhtp 0.5 under
// its default "IDS" server personality:
//
//  - the URI is split as libhtp's htp_parse_uri does (scheme://authority, path, ?query,
//    #fragment); the normalised form is path + "?" + query + "#" + fragment, without scheme
//    and authority (Suricata's `uri-include-all: no`, SCHTPGenerateNormalizedUri);
//  - path: %XX decoded (invalid escapes kept as they are: HTP_URL_DECODE_PRESERVE_PERCENT),
//    %uXXXX decoded (u-encoding-decode), %2f decoded to '/' (path-separators-decode),
//    '\' turned into '/' (backslash-convert-slashes), runs of '/' compressed
//    (path-separators-compress), UTF-8 folded to single bytes by best fit
//    (utf8-convert-bestfit, replacement '?'), then RFC 3986 §5.2.4 remove_dot_segments;
//    NUL bytes are kept (nul-encoded-terminates: no); case is kept;
//  - query: %XX decoded, invalid escapes kept, '+' kept (query-plusspace-decode: no);
//  - fragment: kept as is.
// The best-fit table here covers the fullwidth ASCII block (U+FF01..U+FF5E), which is what
// evasion tools use; other code points above U+00FF become '?'.

function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

function bestFit(cp: number): number {
  if (cp < 0x100) return cp;
  if (cp >= 0xff01 && cp <= 0xff5e) return cp - 0xff00 + 0x20;
  return 0x3f;
}

/** Decodes the path as libhtp's htp_decode_path_inplace does (IDS personality). */
function decodePath(src: Uint8Array): number[] {
  const out: number[] = [];
  let prevSlash = false;
  for (let i = 0; i < src.length; ) {
    let c = src[i]!;
    if (c === 0x25 /* % */) {
      if (i + 5 < src.length && (src[i + 1] === 0x75 || src[i + 1] === 0x55)) {
        const h1 = hexVal(src[i + 2]!), h2 = hexVal(src[i + 3]!), h3 = hexVal(src[i + 4]!), h4 = hexVal(src[i + 5]!);
        if (h1 >= 0 && h2 >= 0 && h3 >= 0 && h4 >= 0) {
          c = bestFit((h1 << 12) | (h2 << 8) | (h3 << 4) | h4);
          i += 6;
        } else {
          i++; // invalid %u: keep the '%' and go on
        }
      } else if (i + 2 < src.length && hexVal(src[i + 1]!) >= 0 && hexVal(src[i + 2]!) >= 0) {
        c = (hexVal(src[i + 1]!) << 4) | hexVal(src[i + 2]!);
        i += 3;
      } else {
        i++;
      }
    } else {
      i++;
    }
    if (c === 0x5c /* \ */) c = 0x2f;
    if (c === 0x2f) {
      if (prevSlash) continue;
      prevSlash = true;
    } else {
      prevSlash = false;
    }
    out.push(c);
  }
  return out;
}

/** Folds valid multi-byte UTF-8 sequences to one byte by best fit; invalid ones stay raw. */
function utf8BestFit(src: number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < src.length; ) {
    const c = src[i]!;
    let need = 0;
    let cp = 0;
    if (c >= 0xc2 && c <= 0xdf) { need = 1; cp = c & 0x1f; }
    else if (c >= 0xe0 && c <= 0xef) { need = 2; cp = c & 0x0f; }
    else if (c >= 0xf0 && c <= 0xf4) { need = 3; cp = c & 0x07; }
    if (need === 0) {
      out.push(c);
      i++;
      continue;
    }
    let ok = true;
    for (let k = 1; k <= need; k++) {
      const b = src[i + k];
      if (b === undefined || (b & 0xc0) !== 0x80) { ok = false; break; }
      cp = (cp << 6) | (b & 0x3f);
    }
    if (!ok || (need === 2 && cp < 0x800) || (need === 3 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff)) {
      out.push(c);
      i++;
      continue;
    }
    out.push(bestFit(cp));
    i += need + 1;
  }
  return out;
}

/** RFC 3986 §5.2.4 remove_dot_segments over bytes. */
export function removeDotSegments(input: number[]): number[] {
  const out: number[] = [];
  let i = 0;
  const n = input.length;
  const at = (k: number): number => (k < n ? input[k]! : -1);
  const popSegment = (): void => {
    let k = out.length - 1;
    while (k >= 0 && out[k] !== 0x2f) k--;
    out.length = k < 0 ? 0 : k;
  };
  while (i < n) {
    // A. "../" or "./" prefix
    if (at(i) === 0x2e && at(i + 1) === 0x2e && at(i + 2) === 0x2f) { i += 3; continue; }
    if (at(i) === 0x2e && at(i + 1) === 0x2f) { i += 2; continue; }
    // B. "/./" or "/." at the end
    if (at(i) === 0x2f && at(i + 1) === 0x2e && at(i + 2) === 0x2f) { i += 2; continue; }
    if (at(i) === 0x2f && at(i + 1) === 0x2e && i + 2 === n) { out.push(0x2f); i += 2; continue; }
    // C. "/../" or "/.." at the end
    if (at(i) === 0x2f && at(i + 1) === 0x2e && at(i + 2) === 0x2e && at(i + 3) === 0x2f) { popSegment(); i += 3; continue; }
    if (at(i) === 0x2f && at(i + 1) === 0x2e && at(i + 2) === 0x2e && i + 3 === n) { popSegment(); out.push(0x2f); i += 3; continue; }
    // D. "." or ".." alone
    if (at(i) === 0x2e && i + 1 === n) break;
    if (at(i) === 0x2e && at(i + 1) === 0x2e && i + 2 === n) break;
    // E. move the first segment (with its leading '/') to the output
    if (at(i) === 0x2f) { out.push(0x2f); i++; }
    while (i < n && input[i] !== 0x2f) out.push(input[i++]!);
  }
  return out;
}

function decodeQuery(src: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < src.length; ) {
    const c = src[i]!;
    if (c === 0x25 && i + 2 < src.length && hexVal(src[i + 1]!) >= 0 && hexVal(src[i + 2]!) >= 0) {
      out.push((hexVal(src[i + 1]!) << 4) | hexVal(src[i + 2]!));
      i += 3;
    } else {
      out.push(c);
      i++;
    }
  }
  return out;
}

export interface ParsedUri {
  scheme: Uint8Array | null;
  /** Host from an absolute URI or authority form, without port. */
  hostname: Uint8Array | null;
  port: Uint8Array | null;
  path: Uint8Array | null;
  query: Uint8Array | null;
  fragment: Uint8Array | null;
}

function indexOfByte(d: Uint8Array, b: number, from: number, to: number): number {
  for (let i = from; i < to; i++) if (d[i] === b) return i;
  return -1;
}

/**
 * Splits a request-target like libhtp's htp_parse_uri. With `connect`, the target is an
 * authority ("host:port", RFC 7230 §5.3.3).
 */
export function parseHttpUri(raw: Uint8Array, connect = false): ParsedUri {
  const r: ParsedUri = { scheme: null, hostname: null, port: null, path: null, query: null, fragment: null };
  let pos = 0;
  const n = raw.length;
  let authority: Uint8Array | null = null;
  if (connect) {
    authority = raw;
    pos = n;
  } else if (n > 0 && raw[0] !== 0x2f) {
    // scheme "://" authority
    let k = 0;
    while (k < n && raw[k] !== 0x3a && raw[k] !== 0x2f && raw[k] !== 0x3f && raw[k] !== 0x23) k++;
    if (k < n && raw[k] === 0x3a && raw[k + 1] === 0x2f && raw[k + 2] === 0x2f) {
      r.scheme = raw.subarray(0, k);
      pos = k + 3;
      let a = pos;
      while (a < n && raw[a] !== 0x2f && raw[a] !== 0x3f && raw[a] !== 0x23) a++;
      authority = raw.subarray(pos, a);
      pos = a;
    }
  }
  if (authority) {
    const at = authority.lastIndexOf(0x40);
    const hp = at >= 0 ? authority.subarray(at + 1) : authority;
    const { host, port } = splitHostPort(hp);
    r.hostname = host;
    r.port = port;
  }
  if (pos < n) {
    let q = indexOfByte(raw, 0x3f, pos, n);
    const h = indexOfByte(raw, 0x23, pos, n);
    if (q >= 0 && h >= 0 && h < q) q = -1;
    const pathEnd = q >= 0 ? q : h >= 0 ? h : n;
    r.path = raw.subarray(pos, pathEnd);
    if (q >= 0) r.query = raw.subarray(q + 1, h >= 0 ? h : n);
    if (h >= 0) r.fragment = raw.subarray(h + 1);
  }
  return r;
}

/** "host:port" → host and port; "[v6]:port" keeps the brackets, as libhtp does. */
export function splitHostPort(hp: Uint8Array): { host: Uint8Array; port: Uint8Array | null } {
  if (hp.length > 0 && hp[0] === 0x5b) {
    const close = hp.indexOf(0x5d);
    if (close > 0) {
      const rest = hp.subarray(close + 1);
      return { host: hp.subarray(0, close + 1), port: rest.length > 1 && rest[0] === 0x3a ? rest.subarray(1) : null };
    }
  }
  const colon = hp.lastIndexOf(0x3a);
  if (colon >= 0) return { host: hp.subarray(0, colon), port: hp.subarray(colon + 1) };
  return { host: hp, port: null };
}

/** Lowercases and trims surrounding whitespace and trailing dots (htp_normalize_hostname_inplace). */
export function normalizeHostname(host: Uint8Array): Uint8Array {
  let s = 0;
  let e = host.length;
  while (s < e && (host[s] === 0x20 || host[s] === 0x09)) s++;
  while (e > s && (host[e - 1] === 0x20 || host[e - 1] === 0x09)) e--;
  while (e > s && host[e - 1] === 0x2e) e--;
  if (s === 0 && e === host.length) {
    // Already normal (the usual lowercase name): the view itself, no copy.
    let upper = false;
    for (let i = 0; i < e && !upper; i++) upper = host[i]! >= 0x41 && host[i]! <= 0x5a;
    if (!upper) return host;
  }
  const out = new Uint8Array(e - s);
  for (let i = s; i < e; i++) {
    const c = host[i]!;
    out[i - s] = c >= 0x41 && c <= 0x5a ? c + 0x20 : c;
  }
  return out;
}

/** The normalised path ("/a/b"), as bytes. */
export function normalizeHttpPath(path: Uint8Array): number[] {
  return removeDotSegments(utf8BestFit(decodePath(path)));
}

/**
 * An origin-form target ("/...") that normalisation leaves as it is: no '%' escape, no '\',
 * no byte above 0x7f (UTF-8 best fit), no "//" (separators compressed) and no "/." (a dot
 * segment, or what could start one). The query and fragment then come out unchanged too
 * (only %XX is decoded there), so the normalised form is the target itself.
 */
function isPlainOriginForm(raw: Uint8Array): boolean {
  const n = raw.length;
  if (n === 0 || raw[0] !== 0x2f) return false;
  for (let i = 0; i < n; i++) {
    const c = raw[i]!;
    if (c === 0x25 || c === 0x5c || c > 0x7f) return false;
    if (c === 0x2f && i + 1 < n && (raw[i + 1] === 0x2f || raw[i + 1] === 0x2e)) return false;
  }
  return true;
}

/**
 * The `http.uri` buffer for a request-target (see the header comment). A target that
 * normalises to itself (the usual "/path?query") is returned as it is, without a copy.
 */
export function normalizeHttpUri(raw: Uint8Array, connect = false): Uint8Array {
  if (!connect && isPlainOriginForm(raw)) return raw;
  return normalizeHttpUriCopy(raw, connect);
}

/** normalizeHttpUri without the unchanged-target shortcut: always a new buffer (tests compare both). */
export function normalizeHttpUriCopy(raw: Uint8Array, connect = false): Uint8Array {
  const u = parseHttpUri(raw, connect);
  const out: number[] = u.path ? normalizeHttpPath(u.path) : [];
  if (u.query) {
    out.push(0x3f);
    for (const b of decodeQuery(u.query)) out.push(b);
  }
  if (u.fragment) {
    out.push(0x23);
    for (const b of u.fragment) out.push(b);
  }
  return Uint8Array.from(out);
}
