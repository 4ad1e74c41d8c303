// The Aho-Corasick scan loop of src/detect/ahoCorasick.ts, in C++ (issue #6: the prefilter
// scans were a third of an offline replay's CPU).
//
// The automaton is built in JS; patternScanner(tables) only borrows its typed arrays: it
// validates them once (every state index in range, every edge/output range inside its array,
// so no later scan can read out of bounds whatever the input), keeps a strong reference to
// each (their ArrayBuffers cannot be freed, and backing stores do not move) and returns a scan
// function bound to them (the Automaton is the function's data, freed with it). Its one
// argument is the buffer; the rest goes through the automaton's hit buffer (an Int32Array
// registered with it), so a call converts no numbers and unwraps no handle:
//   in:  io[0] = automaton state, io[1] = start, io[2] = end
//   out: io[0] = state after the last byte consumed, io[1] = where to resume (end when done),
//        io[3] = hit count n, io[4 + 2k], io[5 + 2k] = pattern id and end of hit k < n.
// A scan stops early (io[1] < end) only when the next byte's outputs would not fit; JS hands
// the hits to its sink and calls again, so hits come out in the JS loop's order and none is
// lost. The buffer holds at least the largest output set of any state (checked here), so
// every call makes progress. A range outside the buffer or an unknown state throws a
// RangeError (code LATERAL_ERR_NATIVE).
//
// Two things the JS loop does not do, each measured (docs/performance.md "Native matcher
// (session 4)"): the hot dense rows are copied once into 16-bit entries (half the cache
// footprint), and a long range is scanned as two interleaved chains (ScanRange).
#include "patternScan.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

namespace lateral {

namespace {

constexpr int32_t kStateMask = 0x7fffffff;
constexpr uint32_t kRow = 256;
constexpr uint32_t kIoHeader = 4;

struct Automaton {
  const int32_t* dense = nullptr;
  uint32_t denseCount = 0;
  // The first dense16Count rows again with 16-bit entries (bit 15: has outputs), built here:
  // half the cache footprint of the scan's hottest rows, as Suricata's util-mpm-ac.c keeps a
  // u16 state table below 32767 states. Rows with a target that needs more bits end it.
  std::vector<uint16_t> dense16;
  uint32_t dense16Count = 0;
  uint32_t stateCount = 0;
  const int32_t* edgeStart = nullptr;
  const int32_t* edgeCount = nullptr;
  const uint8_t* edgeByte = nullptr;
  const int32_t* edgeTarget = nullptr;
  const int32_t* fail = nullptr;
  const int32_t* outStart = nullptr;
  const int32_t* outCount = nullptr;
  const int32_t* outIds = nullptr;
  int32_t* hits = nullptr;
  uint32_t hitCapacity = 0;  // pairs
  uint32_t maxOut = 0;       // largest output set of a state
  uint32_t maxDepth = 0;     // longest pattern: the state after a byte depends on no older byte
  // Strong references: the typed arrays outlive this object whatever JS does with them.
  std::vector<Napi::Reference<Napi::Value>> keep;
};

uint8_t Lower(uint8_t c) { return c >= 0x41 && c <= 0x5a ? c + 0x20 : c; }

// Transition from a deep (sparse) state on a lowered byte, following failure links: the
// dense rows end the walk, and the root is dense, so it terminates.
inline uint32_t SparseNext(const Automaton& a, uint32_t s, uint8_t c) {
  for (;;) {
    if (s < a.denseCount) return static_cast<uint32_t>(a.dense[(s << 8) | c] & kStateMask);
    const int32_t st = a.edgeStart[s], n = a.edgeCount[s];
    for (int32_t i = 0; i < n; i++)
      if (a.edgeByte[st + i] == c) return static_cast<uint32_t>(a.edgeTarget[st + i]);
    s = static_cast<uint32_t>(a.fail[s]);
  }
}

// One TypedArray of the expected type, with its element count and data pointer.
template <typename T>
bool TypedArrayOf(Napi::Object tables, const char* name, napi_typedarray_type type, const T** data,
                  size_t* length, std::vector<Napi::Reference<Napi::Value>>* keep, std::string* err) {
  Napi::Value v = tables.Get(name);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type) {
    *err = std::string("tables.") + name + " must be a " +
           (type == napi_uint8_array ? "Uint8Array" : type == napi_uint16_array ? "Uint16Array" : "Int32Array");
    return false;
  }
  Napi::TypedArray ta = v.As<Napi::TypedArray>();
  void* p = nullptr;
  size_t n = 0;
  // For a small on-heap typed array, this moves its data off the heap once, for good.
  if (napi_get_typedarray_info(v.Env(), ta, nullptr, &n, &p, nullptr, nullptr) != napi_ok) {
    *err = std::string("tables.") + name + ": cannot read the typed array";
    return false;
  }
  *data = static_cast<const T*>(p);
  *length = n;
  keep->push_back(Napi::Persistent(v));
  return true;
}

// Every index the scan loop can follow is in range: checked once here, not per byte.
bool Validate(const Automaton& a, size_t denseLen, size_t edgeLen, size_t outLen, std::string* err) {
  const uint32_t N = a.stateCount;
  if (static_cast<size_t>(a.denseCount) * kRow != denseLen || a.denseCount > N || a.denseCount == 0) {
    *err = "dense must hold denseCount rows of 256 (1 <= denseCount <= states)";
    return false;
  }
  for (size_t i = 0; i < denseLen; i++) {
    if (static_cast<uint32_t>(a.dense[i] & kStateMask) >= N) {
      *err = "dense entry " + std::to_string(i) + " is not a state";
      return false;
    }
  }
  for (uint32_t s = 0; s < N; s++) {
    const int64_t es = a.edgeStart[s], ec = a.edgeCount[s], os = a.outStart[s], oc = a.outCount[s];
    if (es < 0 || ec < 0 || es + ec > static_cast<int64_t>(edgeLen)) {
      *err = "state " + std::to_string(s) + ": edges out of range";
      return false;
    }
    if (os < 0 || oc < 0 || os + oc > static_cast<int64_t>(outLen)) {
      *err = "state " + std::to_string(s) + ": outputs out of range";
      return false;
    }
    if (oc > static_cast<int64_t>(a.hitCapacity)) {
      *err = "state " + std::to_string(s) + " has more outputs than the hit buffer holds";
      return false;
    }
    // A deep state's failure link must lead to a shallower state, or SparseNext could loop.
    if (s >= a.denseCount && (a.fail[s] < 0 || static_cast<uint32_t>(a.fail[s]) >= s)) {
      *err = "state " + std::to_string(s) + ": failure link not to a shallower state";
      return false;
    }
  }
  for (size_t e = 0; e < edgeLen; e++) {
    if (a.edgeTarget[e] < 0 || static_cast<uint32_t>(a.edgeTarget[e]) >= N) {
      *err = "edge " + std::to_string(e) + " targets no state";
      return false;
    }
  }
  return true;
}

void ThrowCoded(napi_env env, const char* code, const std::string& msg, bool range) {
  if (range) napi_throw_range_error(env, code, msg.c_str());
  else napi_throw_type_error(env, code, msg.c_str());
}

// maxOut and maxDepth (trie depth from the edges: BFS numbering puts a child after its parent;
// tables that do not leave interleaving off, see Scan).
void MeasureDepth(Automaton* a) {
  std::vector<uint32_t> depth(a->stateCount, 0);
  uint32_t maxDepth = 0, maxOut = 0;
  for (uint32_t s = 0; s < a->stateCount; s++) {
    maxOut = std::max(maxOut, static_cast<uint32_t>(a->outCount[s]));
    const int32_t st = a->edgeStart[s], n = a->edgeCount[s];
    for (int32_t k = 0; k < n; k++) {
      const uint32_t t = static_cast<uint32_t>(a->edgeTarget[st + k]);
      if (t <= s) maxDepth = UINT32_MAX / 8;
      else depth[t] = depth[s] + 1;
      maxDepth = std::max(maxDepth, depth[t]);
    }
  }
  a->maxDepth = maxDepth;
  a->maxOut = maxOut;
}

void BuildDense16(Automaton* a) {
  uint32_t rows = 0;
  for (; rows < a->denseCount; rows++) {
    const int32_t* row = a->dense + static_cast<size_t>(rows) * kRow;
    bool fits = true;
    for (uint32_t c = 0; c < kRow && fits; c++) fits = (row[c] & kStateMask) < 0x8000;
    if (!fits) break;
  }
  a->dense16.resize(static_cast<size_t>(rows) * kRow);
  for (size_t k = 0; k < a->dense16.size(); k++) {
    const int32_t v = a->dense[k];
    a->dense16[k] = static_cast<uint16_t>((v & kStateMask) | (v < 0 ? 0x8000 : 0));
  }
  a->dense16Count = rows;
}

// What StepSlow did: the new state and hit count, or ok = false (the byte's outputs would
// not fit; nothing consumed). Returned by value, in registers: the callers keep their state
// and position in registers too (had they passed them by address, the per-byte store and
// reload would sit in each byte's dependency chain).
struct Stepped {
  uint32_t s;
  uint32_t count;
  bool ok;
};

// One byte of AhoCorasick.scanRange's loop, the uncommon cases: a 32-bit dense row, a sparse
// state, a state with outputs. Hits with end <= recordAfter are not written (the warm-up of
// an interleaved chain, see ScanRange).
__attribute__((noinline)) Stepped StepSlow(const Automaton& a, uint32_t s, uint8_t b, uint32_t end, int32_t* out,
                                           uint32_t count, uint32_t cap, uint32_t recordAfter) {
  uint32_t t;
  if (s < a.dense16Count) {
    const uint16_t v = a.dense16[(s << 8) | b];
    if ((v & 0x8000u) == 0) return {v, count, true};
    t = v & 0x7fffu;
  } else if (s < a.denseCount) {
    const int32_t v = a.dense[(s << 8) | b];
    if (v >= 0) return {static_cast<uint32_t>(v), count, true};
    t = static_cast<uint32_t>(v & kStateMask);
  } else {
    t = SparseNext(a, s, Lower(b));
    if (a.outCount[t] == 0) return {t, count, true};
  }
  if (end > recordAfter) {
    const uint32_t n = static_cast<uint32_t>(a.outCount[t]);
    if (count + n > cap) return {s, count, false};
    const int32_t* ids = a.outIds + a.outStart[t];
    int32_t* o = out + 2 * count;
    for (uint32_t k = 0; k < n; k++) {
      o[2 * k] = ids[k];
      o[2 * k + 1] = static_cast<int32_t>(end);
    }
    count += n;
  }
  return {t, count, true};
}

// Scans buf[i, end) from state s into out (cap pairs); stops before a byte whose outputs would
// not fit. s, i, count are updated.
inline void ScanOne(const Automaton& a, const uint8_t* buf, uint32_t end, int32_t* out, uint32_t cap,
                    uint32_t recordAfter, uint32_t& sRef, uint32_t& iRef, uint32_t& countRef) {
  const uint16_t* dense16 = a.dense16.data();
  const uint32_t d16n = a.dense16Count;
  uint32_t s = sRef, i = iRef, count = countRef;
  for (; i < end; i++) {
    if (s < d16n) {
      const uint16_t v = dense16[(s << 8) | buf[i]];
      if ((v & 0x8000u) == 0) {
        s = v;
        continue;
      }
    }
    const Stepped r = StepSlow(a, s, buf[i], i + 1, out, count, cap, recordAfter);
    if (!r.ok) break;
    s = r.s;
    count = r.count;
  }
  sRef = s;
  iRef = i;
  countRef = count;
}

// Below this many bytes (or 4 x the longest pattern) a range is one chain.
constexpr uint32_t kInterleaveMin = 512;
// A call scans at most this much (JS calls again): when the first chain fills its half of
// the hit buffer, the second chain's work is dropped, so the halves are kept short enough
// that this stays rare (ET Open's payload automaton over a pcap file: 1 hit per 20 bytes).
constexpr uint32_t kWindow = 64 * 1024;

// Scans [*pos, end) from *state; returns the hit count, updates *state and *pos (where to
// resume). A long range is cut in two halves scanned in lockstep: the loop is bound by the
// latency of each byte's table load, which depends on the previous one, and two independent
// chains overlap their loads. The second chain starts from the root maxDepth bytes before the
// middle (hits there not written): an Aho-Corasick state is the longest suffix of the text
// read that is a trie path, never longer than maxDepth, so at the middle it is in the state
// the first chain arrives in. Its hits go to the second half of the hit buffer and are moved
// behind the first chain's: the JS loop's order. If the first chain fills its half, the
// second one's work is dropped and the scan resumes where the first stopped; if the second
// fills its half, where the second stopped.
uint32_t ScanRange(const Automaton& a, const uint8_t* buf, uint32_t end, int32_t* out, uint32_t* state, uint32_t* pos) {
  if (end - *pos > kWindow) end = *pos + kWindow;
  const uint32_t len = end - *pos, cap = a.hitCapacity, half = cap / 2;
  uint32_t count = 0;
  if (len < kInterleaveMin || len / 4 < a.maxDepth || half < a.maxOut || half == 0) {
    ScanOne(a, buf, end, out, cap, 0, *state, *pos, count);
    return count;
  }
  const uint16_t* dense16 = a.dense16.data();
  const uint32_t d16n = a.dense16Count;
  const uint32_t mid = *pos + len / 2;
  int32_t* yout = out + 2 * half;
  uint32_t xs = *state, xi = *pos, xc = 0, ys = 0, yi = mid - a.maxDepth, yc = 0;
  bool ok = true;
  while (xi < mid && yi < end) {
    // 0x8000: the slow step (a target with outputs, or a state past the 16-bit rows).
    const uint16_t xv = xs < d16n ? dense16[(xs << 8) | buf[xi]] : 0x8000u;
    if ((xv & 0x8000u) == 0) {
      xs = xv;
    } else {
      const Stepped r = StepSlow(a, xs, buf[xi], xi + 1, out, xc, half, 0);
      if (!r.ok) break;
      xs = r.s;
      xc = r.count;
    }
    xi++;
    if (ys < d16n) {
      const uint16_t v = dense16[(ys << 8) | buf[yi]];
      if ((v & 0x8000u) == 0) {
        ys = v;
        yi++;
        continue;
      }
    }
    const Stepped r = StepSlow(a, ys, buf[yi], yi + 1, yout, yc, half, mid);
    if (!r.ok) {
      ok = false;
      break;
    }
    ys = r.s;
    yc = r.count;
    yi++;
  }
  ScanOne(a, buf, mid, out, half, 0, xs, xi, xc);
  if (xi < mid) {  // the first half's hits filled its part of the buffer
    *state = xs;
    *pos = xi;
    return xc;
  }
  if (ok) ScanOne(a, buf, end, yout, half, mid, ys, yi, yc);
  memmove(out + 2 * xc, yout, sizeof(int32_t) * 2 * yc);
  *state = ys;
  *pos = yi;
  return xc + yc;
}

// The scan function patternScanner returns (bound to one Automaton): scan(buf), see the top.
napi_value Scan(napi_env env, napi_callback_info cbinfo) {
  size_t argc = 1;
  napi_value arg;
  void* self = nullptr;
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  if (napi_get_cb_info(env, cbinfo, &argc, &arg, nullptr, &self) != napi_ok || argc < 1 ||
      napi_get_typedarray_info(env, arg, &type, &length, &data, nullptr, nullptr) != napi_ok ||
      type != napi_uint8_array) {
    ThrowCoded(env, "LATERAL_ERR_NATIVE", "patternScan(buf): buf must be a Uint8Array", false);
    return nullptr;
  }
  const Automaton& a = *static_cast<const Automaton*>(self);
  int32_t* io = a.hits;
  const int32_t state = io[0], start = io[1], endIn = io[2];
  if (start < 0 || start > endIn || static_cast<size_t>(endIn) > length) {
    ThrowCoded(env, "LATERAL_ERR_NATIVE",
               "patternScan: range [" + std::to_string(start) + ", " + std::to_string(endIn) +
                   ") is not inside the buffer of " + std::to_string(length) + " bytes",
               true);
    return nullptr;
  }
  if (state < 0 || static_cast<uint32_t>(state) >= a.stateCount) {
    ThrowCoded(env, "LATERAL_ERR_NATIVE",
               "patternScan: state " + std::to_string(state) + " is not one of the automaton's " +
                   std::to_string(a.stateCount) + " states",
               true);
    return nullptr;
  }
  const uint8_t* buf = static_cast<const uint8_t*>(data);
  const uint32_t end = static_cast<uint32_t>(endIn);
  uint32_t s = static_cast<uint32_t>(state), i = static_cast<uint32_t>(start);
  const uint32_t count = ScanRange(a, buf, end, io + kIoHeader, &s, &i);
  io[0] = static_cast<int32_t>(s);
  io[1] = static_cast<int32_t>(i);
  io[3] = static_cast<int32_t>(count);
  return nullptr;
}

}  // namespace

Napi::Value PatternScanner(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) {
    ThrowCoded(env, "LATERAL_ERR_NATIVE", "patternScanner(tables): tables must be an object", false);
    return env.Undefined();
  }
  Napi::Object t = info[0].As<Napi::Object>();
  auto a = std::make_unique<Automaton>();
  std::string err;
  size_t denseLen = 0, n1 = 0, n2 = 0, n3 = 0, n4 = 0, n5 = 0, edgeLen = 0, edgeLen2 = 0, outLen = 0, hitLen = 0;
  const int32_t* hits = nullptr;
  bool ok = TypedArrayOf(t, "dense", napi_int32_array, &a->dense, &denseLen, &a->keep, &err) &&
            TypedArrayOf(t, "edgeStart", napi_int32_array, &a->edgeStart, &n1, &a->keep, &err) &&
            TypedArrayOf(t, "edgeCount", napi_int32_array, &a->edgeCount, &n2, &a->keep, &err) &&
            TypedArrayOf(t, "edgeByte", napi_uint8_array, &a->edgeByte, &edgeLen, &a->keep, &err) &&
            TypedArrayOf(t, "edgeTarget", napi_int32_array, &a->edgeTarget, &edgeLen2, &a->keep, &err) &&
            TypedArrayOf(t, "fail", napi_int32_array, &a->fail, &n3, &a->keep, &err) &&
            TypedArrayOf(t, "outStart", napi_int32_array, &a->outStart, &n4, &a->keep, &err) &&
            TypedArrayOf(t, "outCount", napi_int32_array, &a->outCount, &n5, &a->keep, &err) &&
            TypedArrayOf(t, "outIds", napi_int32_array, &a->outIds, &outLen, &a->keep, &err) &&
            TypedArrayOf(t, "hits", napi_int32_array, &hits, &hitLen, &a->keep, &err);
  if (ok) {
    Napi::Value dc = t.Get("denseCount");
    if (!dc.IsNumber() || dc.As<Napi::Number>().Int64Value() < 0 || dc.As<Napi::Number>().Int64Value() > (1 << 24)) {
      err = "tables.denseCount must be a state count";
      ok = false;
    } else {
      a->denseCount = static_cast<uint32_t>(dc.As<Napi::Number>().Int64Value());
    }
  }
  if (ok && (n1 == 0 || n1 != n2 || n1 != n3 || n1 != n4 || n1 != n5 || n1 > 0x7fffffff || edgeLen != edgeLen2)) {
    err = "state tables (edgeStart, edgeCount, fail, outStart, outCount) must have one entry per state, "
          "edgeByte and edgeTarget one per edge";
    ok = false;
  }
  if (ok && (hitLen < kIoHeader + 2 || hitLen % 2 != 0 || hitLen > 0x7fffffff)) {
    err = "tables.hits must be an Int32Array of 4 + 2 * capacity entries (capacity >= 1)";
    ok = false;
  }
  if (ok) {
    a->stateCount = static_cast<uint32_t>(n1);
    a->hits = const_cast<int32_t*>(hits);
    a->hitCapacity = static_cast<uint32_t>((hitLen - kIoHeader) / 2);
    ok = Validate(*a, denseLen, edgeLen, outLen, &err);
  }
  if (ok) MeasureDepth(a.get());
  if (ok) BuildDense16(a.get());
  // Measurement knob (bench/enginePerf.ts): one chain per range, no interleaving.
  if (ok && getenv("LATERAL_AC_NO2") != nullptr) a->maxDepth = UINT32_MAX / 8;
  if (!ok) {
    ThrowCoded(env, "LATERAL_ERR_NATIVE", "patternScanner: " + err, false);
    return env.Undefined();
  }
  napi_value fn;
  Automaton* raw = a.get();
  if (napi_create_function(env, "patternScan", NAPI_AUTO_LENGTH, Scan, raw, &fn) != napi_ok ||
      napi_add_finalizer(env, fn, raw, [](napi_env, void* p, void*) { delete static_cast<Automaton*>(p); }, nullptr,
                         nullptr) != napi_ok) {
    ThrowCoded(env, "LATERAL_ERR_NATIVE", "patternScanner: cannot create the scan function", false);
    return env.Undefined();
  }
  a.release();  // owned by the function's finalizer now
  return Napi::Value(env, fn);
}

}  // namespace lateral
