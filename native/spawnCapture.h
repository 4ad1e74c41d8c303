// spawnCapture(file, args, timeoutMs): run a command without fork(2) (see spawnCapture.cc).
#pragma once

#include <napi.h>

namespace lateral {

Napi::Value SpawnCapture(const Napi::CallbackInfo& info);

}  // namespace lateral
