// Module entry: exports the NfQueue class, the layout constants JS needs, and the helpers
// (capabilities, spawnCapture, the Aho-Corasick scan loop).
// N-API modules are context-aware, so the addon loads in every worker thread.
// netinet/in.h before any linux/ header, or the two in.h definitions collide.
#include <netinet/in.h>
#include <napi.h>

#include <linux/netfilter.h>

#include "capabilities.h"
#include "nfQueue.h"
#include "patternScan.h"
#include "spawnCapture.h"

namespace {

Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  exports.Set("NfQueue", lateral::NfQueue::Init(env));
  exports.Set("META_STRIDE", Napi::Number::New(env, lateral::kMetaStride));
  Napi::Object v = Napi::Object::New(env);
  v.Set("DROP", Napi::Number::New(env, NF_DROP));
  v.Set("ACCEPT", Napi::Number::New(env, NF_ACCEPT));
  v.Set("REPEAT", Napi::Number::New(env, NF_REPEAT));
  exports.Set("verdicts", v);
  exports.Set("dropCapabilities", Napi::Function::New(env, lateral::DropCapabilities, "dropCapabilities"));
  exports.Set("CAPABILITY_NAMES", lateral::CapabilityNames(env));
  exports.Set("spawnCapture", Napi::Function::New(env, lateral::SpawnCapture, "spawnCapture"));
  exports.Set("patternScanner", Napi::Function::New(env, lateral::PatternScanner, "patternScanner"));
  return exports;
}

}  // namespace

NODE_API_MODULE(lateral_nfq, InitModule)
