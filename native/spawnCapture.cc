// spawnCapture(file, args, timeoutMs) -> {status, signal, stdout, stderr, error}
//
// Runs a command synchronously and captures its output, like child_process.execFileSync, but
// through posix_spawnp(3) instead of fork(2). Why: libuv starts children with fork(), which
// copies the page tables of the whole process while holding its mm lock, then makes every
// writable page copy-on-write. With ET Open loaded Lateral's RSS is ~340 MiB; measured here,
// clone() of that process took 6-18 ms, and the packet workers (same address space) stall on
// their page faults meanwhile and fault again on their next writes after it. `lateral run`
// reads the iptables counters (iptables-save) every 5 s, so every 5 s the verdicts stalled
// (docs/performance.md "Added latency"). glibc's posix_spawn uses clone(CLONE_VM|CLONE_VFORK):
// the child borrows the parent's memory until it execs, and nothing is copied.
//
// stdin is /dev/null; stdout and stderr are read through pipes (poll(2), up to timeoutMs, then
// SIGKILL). `error` is non-empty when the command could not be started or timed out.
#include "spawnCapture.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <string>
#include <vector>

extern char** environ;

namespace lateral {

namespace {

int64_t NowMs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

struct Pipe {
  int fd[2] = {-1, -1};
  ~Pipe() {
    for (int f : fd)
      if (f >= 0) close(f);
  }
  void CloseEnd(int i) {
    if (fd[i] >= 0) close(fd[i]);
    fd[i] = -1;
  }
};

}  // namespace

Napi::Value SpawnCapture(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsString() || !info[1].IsArray() || !info[2].IsNumber()) {
    Napi::TypeError::New(env, "spawnCapture(file, args, timeoutMs)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string file = info[0].As<Napi::String>().Utf8Value();
  Napi::Array arr = info[1].As<Napi::Array>();
  int64_t timeoutMs = info[2].As<Napi::Number>().Int64Value();
  std::vector<std::string> args{file};
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Value v = arr.Get(i);
    if (!v.IsString()) {
      Napi::TypeError::New(env, "spawnCapture: args must be strings").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    args.push_back(v.As<Napi::String>().Utf8Value());
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  Napi::Object result = Napi::Object::New(env);
  std::string out, err, error;
  int status = -1, signal = 0;
  Pipe po, pe;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  // As libuv does for its children: default signal dispositions (Node ignores SIGPIPE) and
  // nothing blocked, so the command behaves as it would under execFileSync.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  pid_t pid = -1;
  int rc = 0;
  if (pipe2(po.fd, O_CLOEXEC) != 0 || pipe2(pe.fd, O_CLOEXEC) != 0) {
    rc = errno;
  } else {
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, po.fd[1], 1);
    posix_spawn_file_actions_adddup2(&fa, pe.fd[1], 2);
    rc = posix_spawnp(&pid, file.c_str(), &fa, &attr, argv.data(), environ);
  }
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    error = std::string("cannot start ") + file + ": " + strerror(rc);
  } else {
    po.CloseEnd(1);
    pe.CloseEnd(1);
    int64_t deadline = NowMs() + timeoutMs;
    char buf[65536];
    bool timedOut = false;
    while (po.fd[0] >= 0 || pe.fd[0] >= 0) {
      struct pollfd fds[2] = {{po.fd[0], POLLIN, 0}, {pe.fd[0], POLLIN, 0}};
      int64_t left = deadline - NowMs();
      if (left <= 0) {
        timedOut = true;
        break;
      }
      int n = poll(fds, 2, static_cast<int>(left));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) break;
      for (int i = 0; i < 2; i++) {
        if (fds[i].fd < 0 || fds[i].revents == 0) continue;
        ssize_t r = read(fds[i].fd, buf, sizeof buf);
        if (r > 0) {
          (i == 0 ? out : err).append(buf, static_cast<size_t>(r));
        } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
          (i == 0 ? po : pe).CloseEnd(0);
        }
      }
    }
    if (timedOut) {
      kill(pid, SIGKILL);
      error = std::string(file) + ": timed out after " + std::to_string(timeoutMs) + " ms";
    }
    int ws = 0;
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(ws)) status = WEXITSTATUS(ws);
    if (WIFSIGNALED(ws)) signal = WTERMSIG(ws);
  }
  result.Set("status", Napi::Number::New(env, status));
  result.Set("signal", Napi::Number::New(env, signal));
  result.Set("stdout", Napi::String::New(env, out));
  result.Set("stderr", Napi::String::New(env, err));
  result.Set("error", Napi::String::New(env, error));
  return result;
}

}  // namespace lateral
