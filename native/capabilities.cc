// dropCapabilities(keep: string[]): keep only the named capabilities, in every thread.
//
// Direct syscalls (capset(2), prctl(2)), not libcap: the three calls we need are stable
// kernel ABI, and libcap would add a build dependency (libcap-dev) for no extra safety.
// What libcap's cap_set_proc() also does not solve is threads: capability sets, the bounding
// set and no_new_privs are per THREAD in Linux, and Node runs libuv pool threads, V8 platform
// threads and worker threads beside the main one. Like glibc's setxid broadcast (and libcap's
// libpsx), we signal every other thread of the process (tgkill) and run the same drop in its
// signal handler; only async-signal-safe raw syscalls run there. The call reports how many
// threads confirmed, so a thread that never ran the handler is not silently left privileged.
//
// Order per thread (capabilities(7)): drop the bounding set first (PR_CAPBSET_DROP needs
// CAP_SETPCAP, which capset then removes), clear the ambient set, set no_new_privs, then
// capset(effective = permitted = keep, inheritable = 0).
#include "capabilities.h"

#include <dirent.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace lateral {
namespace {

// capabilities(7) names by number, as in linux/capability.h (up to CAP_CHECKPOINT_RESTORE, 40).
const char* const kCapNames[] = {
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
    "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
};
constexpr int kKnownCaps = sizeof(kCapNames) / sizeof(kCapNames[0]);

// Shared with the signal handler: written before the signals are sent, read-only after.
uint64_t g_keep = 0;
int g_lastCap = 0;
std::atomic<int> g_done{0};
std::atomic<int> g_failed{0};

// The per-thread drop; raw syscalls only (async-signal-safe). Returns 0 or an errno.
int DropInThisThread() {
  for (int c = 0; c <= g_lastCap; c++) {
    if (g_keep & (uint64_t{1} << c)) continue;
    if (syscall(SYS_prctl, PR_CAPBSET_READ, c, 0, 0, 0) == 1 &&
        syscall(SYS_prctl, PR_CAPBSET_DROP, c, 0, 0, 0) != 0) {
      return errno;
    }
  }
  syscall(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);  // EINVAL before 4.3: nothing to clear
  if (syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return errno;
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  data[0].effective = data[0].permitted = static_cast<uint32_t>(g_keep);
  data[1].effective = data[1].permitted = static_cast<uint32_t>(g_keep >> 32);
  if (syscall(SYS_capset, &header, data) != 0) return errno;
  return 0;
}

void OnDropSignal(int) {
  int saved = errno;
  if (DropInThisThread() != 0) g_failed.fetch_add(1);
  g_done.fetch_add(1);
  errno = saved;
}

int LastCap() {
  int last = 0;
  while (last < 63 && syscall(SYS_prctl, PR_CAPBSET_READ, last + 1, 0, 0, 0) >= 0) last++;
  return last;
}

std::vector<pid_t> OtherThreads() {
  std::vector<pid_t> tids;
  pid_t self = static_cast<pid_t>(syscall(SYS_gettid));
  DIR* dir = opendir("/proc/self/task");
  if (dir == nullptr) return tids;
  while (dirent* e = readdir(dir)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    pid_t tid = static_cast<pid_t>(std::strtol(e->d_name, nullptr, 10));
    if (tid != self) tids.push_back(tid);
  }
  closedir(dir);
  return tids;
}

}  // namespace

Napi::Value DropCapabilities(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArray()) {
    Napi::TypeError::New(env, "dropCapabilities(keep: string[])").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Array names = info[0].As<Napi::Array>();
  uint64_t keep = 0;
  for (uint32_t i = 0; i < names.Length(); i++) {
    Napi::Value v = names.Get(i);
    std::string name = v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string();
    int found = -1;
    for (int c = 0; c < kKnownCaps; c++) {
      if (name == kCapNames[c]) found = c;
    }
    if (found < 0) {
      Napi::TypeError::New(env, "dropCapabilities: unknown capability " + name).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    keep |= uint64_t{1} << found;
  }
  g_keep = keep;
  g_lastCap = LastCap();
  g_done.store(0);
  g_failed.store(0);

  // SIGRTMAX - 3: glibc keeps the lowest real-time signals; Node and libuv use none of these.
  const int sig = SIGRTMAX - 3;
  struct sigaction action {}, previous {};
  action.sa_handler = OnDropSignal;
  action.sa_flags = SA_RESTART;
  sigemptyset(&action.sa_mask);
  sigaction(sig, &action, &previous);

  std::vector<pid_t> tids = OtherThreads();
  int signaled = 0;
  for (pid_t tid : tids) {
    if (syscall(SYS_tgkill, getpid(), tid, sig) == 0) signaled++;  // ESRCH: it just exited
  }
  int selfError = DropInThisThread();
  // Wait (up to 2 s) for every signaled thread to run the handler.
  for (int i = 0; i < 2000 && g_done.load() < signaled; i++) {
    timespec ms{0, 1000000};
    nanosleep(&ms, nullptr);
  }
  sigaction(sig, &previous, nullptr);

  Napi::Object out = Napi::Object::New(env);
  out.Set("threads", Napi::Number::New(env, signaled + 1));
  out.Set("threadsDropped", Napi::Number::New(env, g_done.load() - g_failed.load() + (selfError == 0 ? 1 : 0)));
  out.Set("error", Napi::String::New(env, selfError == 0 ? "" : std::strerror(selfError)));
  return out;
}

Napi::Array CapabilityNames(Napi::Env env) {
  Napi::Array names = Napi::Array::New(env, kKnownCaps);
  for (int c = 0; c < kKnownCaps; c++) names.Set(static_cast<uint32_t>(c), Napi::String::New(env, kCapNames[c]));
  return names;
}

}  // namespace lateral
