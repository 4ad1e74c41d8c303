// dropCapabilities(keep): least privilege for the NFQUEUE process (see capabilities.cc).
#pragma once

#include <napi.h>

namespace lateral {

Napi::Value DropCapabilities(const Napi::CallbackInfo& info);
// Capability names by number (CAP_CHOWN = 0, ...), for decoding /proc masks in JS.
Napi::Array CapabilityNames(Napi::Env env);

}  // namespace lateral
