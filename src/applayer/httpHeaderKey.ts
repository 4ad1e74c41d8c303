// The lowercased name of an HTTP header field as a string (HttpHeader.key), without making
// new strings for names seen before: a direct-mapped cache of recent names, keyed by a hash
// of the lowercased bytes and checked byte for byte. Making the key (a Buffer view, a latin1
// string and its lowercase copy per field) was the largest allocation of the HTTP parser on
// the replay workloads. The cache is bounded (CACHE_SIZE names of at most MAX_CACHED_LENGTH
// bytes); a name that misses, or is longer, is made as before, so odd or hostile names cost
// what they always did and nothing grows.
import { latin1Text } from './latin1Text';

const CACHE_SIZE = 512;
const MAX_CACHED_LENGTH = 64;
const cache: Array<string | undefined> = new Array<string | undefined>(CACHE_SIZE).fill(undefined);

function lower(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c + 0x20 : c;
}

export function httpHeaderKey(name: Uint8Array): string {
  const n = name.length;
  if (n > MAX_CACHED_LENGTH) return latin1Text(name).toLowerCase();
  let h = n;
  for (let i = 0; i < n; i++) h = (Math.imul(h, 31) + lower(name[i]!)) | 0;
  const slot = (h ^ (h >>> 9)) & (CACHE_SIZE - 1);
  const k = cache[slot];
  if (k !== undefined && k.length === n) {
    let i = 0;
    while (i < n && k.charCodeAt(i) === lower(name[i]!)) i++;
    if (i === n) return k;
  }
  const key = latin1Text(name).toLowerCase();
  cache[slot] = key;
  return key;
}
