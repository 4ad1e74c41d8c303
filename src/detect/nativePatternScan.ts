// The native Aho-Corasick scan loop (native/patternScan.cc), or null where it is not used: the
// addon cannot load (not built), was built before patternScan existed, or LATERAL_JS_MATCHER=1
// forces the JS loop (differential tests, benchmarks). AhoCorasick falls back to its own loop
// then, with identical results.
import { loadNativeAddon, type NativePatternHandle, type NativePatternTables } from '../capture/native';

export interface NativePatternScan {
  scanner(tables: NativePatternTables): NativePatternHandle;
  scan(handle: NativePatternHandle, buf: Uint8Array, start: number, end: number, state: number): number;
}

function load(): NativePatternScan | null {
  if (process.env.LATERAL_JS_MATCHER === '1') return null;
  try {
    const addon = loadNativeAddon();
    const scanner = addon.patternScanner, scan = addon.patternScan;
    if (scanner === undefined || scan === undefined) return null;
    return { scanner, scan };
  } catch {
    return null;
  }
}

export const nativePatternScan: NativePatternScan | null = load();
