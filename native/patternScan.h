// patternScanner(tables) -> scan(buf): the Aho-Corasick scan loop over tables built in JS
// (see patternScan.cc).
#pragma once

#include <napi.h>

namespace lateral {

Napi::Value PatternScanner(const Napi::CallbackInfo& info);

}  // namespace lateral
