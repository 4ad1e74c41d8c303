// The native Aho-Corasick scan loop (native/patternScan.cc), or null where it is not used: the
// addon cannot load (not built), was built before patternScan existed, or LATERAL_JS_MATCHER=1
// forces the JS loop (differential tests, benchmarks). AhoCorasick falls back to its own loop
// then, with identical results.
import { loadNativeAddon, type NativePatternScan, type NativePatternTables } from '../capture/native';

export type NativePatternScanner = (tables: NativePatternTables) => NativePatternScan;

function load(): NativePatternScanner | null {
  if (process.env.LATERAL_JS_MATCHER === '1') return null;
  try {
    const addon = loadNativeAddon();
    const scanner = addon.patternScanner;
    return scanner === undefined ? null : scanner;
  } catch {
    return null;
  }
}

/** Borrows an automaton's tables and returns its native scan function (null: JS loop only). */
export const nativePatternScanner: NativePatternScanner | null = load();
