// patternScanner(tables) / patternScan(handle, buf, start, end, state): the Aho-Corasick scan
// loop over tables built in JS (see patternScan.cc).
#pragma once

#include <napi.h>

namespace lateral {

Napi::Value PatternScanner(const Napi::CallbackInfo& info);
napi_value PatternScan(napi_env env, napi_callback_info cbinfo);

}  // namespace lateral
