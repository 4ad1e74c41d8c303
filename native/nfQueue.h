// One NFQUEUE queue bound over a raw libmnl netlink socket, exposed to JS as a class.
//
// The kernel side is driven exactly like libnetfilter_queue does it, but without that
// library (GPL): config messages with ACKs while binding, then a non-blocking socket
// watched by uv_poll. Each readable event drains the socket into one arena (zero copy:
// we recv() straight into it, so a payload's offset is just where its NFQA_PAYLOAD
// attribute landed) and hands JS ONE batch: no per-packet callback, no per-packet object.
#pragma once

#include <napi.h>
#include <uv.h>

#include <libmnl/libmnl.h>

#include <cstdint>
#include <memory>
#include <vector>

namespace lateral {

// One row of kMetaStride uint32 per packet in the metadata table. Mirrored in
// src/capture/native.ts (MetaField); keep both in sync.
enum MetaField : uint32_t {
  kMetaId = 0,       // kernel packet id, the key of the verdict
  kMetaHwProto,      // ethertype (host order), 0x0800 / 0x86dd
  kMetaMark,         // skb->mark as queued
  kMetaInDev,        // ifindex or 0
  kMetaOutDev,
  kMetaPhysInDev,    // bridge port the frame came in on (br_netfilter)
  kMetaPhysOutDev,   // bridge port it is going out of
  kMetaSkbInfo,      // NFQA_SKB_* flags (CSUMNOTREADY, GSO, CSUM_NOTVERIFIED)
  kMetaCapLen,       // bytes of payload in the arena
  kMetaOrigLen,      // length of the packet in the kernel (NFQA_CAP_LEN, else caplen)
  kMetaOffset,       // offset of the payload (IP header) in the arena
  kMetaHook,         // netfilter hook the packet was queued from
  kMetaStride
};

struct MnlSocketCloser {
  void operator()(mnl_socket* s) const {
    if (s != nullptr) mnl_socket_close(s);
  }
};
using MnlSocketPtr = std::unique_ptr<mnl_socket, MnlSocketCloser>;

// The uv_poll handle lives in its own box: its close callback can run after the NfQueue
// is gone, and during worker teardown it must finish before the addon is unloaded (an
// async cleanup hook holds the unload until the callback has run).
struct PollBox {
  uv_poll_t poll;
  class NfQueue* owner = nullptr;
  napi_async_cleanup_hook_handle hook = nullptr;
  bool closing = false;
};

class NfQueue : public Napi::ObjectWrap<NfQueue> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit NfQueue(const Napi::CallbackInfo& info);
  ~NfQueue() override;

 private:
  Napi::Value Start(const Napi::CallbackInfo& info);
  Napi::Value Verdict(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  bool Bind(Napi::Env env);
  int SendConfig(struct nlmsghdr* nlh);
  struct nlmsghdr* PutConfigHeader(char* buf);
  void OnReadable();
  size_t Drain();
  bool ParsePacket(const struct nlmsghdr* nlh, uint32_t row);
  void PutVerdict(uint16_t type, uint32_t id, uint32_t verdict, uint32_t mark, bool withMark);
  void FlushVerdicts();
  void CloseInternal();
  void ThrowErrno(Napi::Env env, const char* code, const char* what, int err);

  static void PollCallback(uv_poll_t* handle, int status, int events);
  static void CleanupHook(void* arg);
  static void AsyncCleanupHook(napi_async_cleanup_hook_handle handle, void* arg);
  static void ClosePollBox(PollBox* box);

  // Options.
  uint16_t queue_ = 0;
  uint32_t copyRange_ = 0xffff;
  uint32_t maxLen_ = 1024;
  uint32_t rcvBuf_ = 0;
  uint32_t batchLimit_ = 256;
  bool gso_ = true;
  bool failOpen_ = false;
  bool conntrack_ = false;
  bool batchVerdicts_ = true;

  MnlSocketPtr sock_;
  unsigned int portId_ = 0;
  unsigned int seq_ = 0;
  PollBox* poll_ = nullptr;
  bool closed_ = false;
  bool hookAdded_ = false;
  bool tearingDown_ = false;
  napi_env env_ = nullptr;

  // Batch storage shared with JS (views created once, reused for every batch).
  Napi::Reference<Napi::ArrayBuffer> arenaRef_;
  Napi::Reference<Napi::ArrayBuffer> metaRef_;
  uint8_t* arena_ = nullptr;
  size_t arenaSize_ = 0;
  uint32_t* meta_ = nullptr;
  size_t recvSize_ = 0;

  Napi::FunctionReference onBatch_;
  Napi::FunctionReference onError_;

  std::vector<char> verdictBuf_;
  size_t verdictUsed_ = 0;

  // Counters (monotonic; read by stats()).
  double packets_ = 0, batches_ = 0, enobufs_ = 0, recvErrors_ = 0, netlinkErrors_ = 0;
  double verdicts_ = 0, verdictMsgs_ = 0, batchVerdictMsgs_ = 0, sendErrors_ = 0;
  double bytes_ = 0, maxBatch_ = 0, unknownMsgs_ = 0, skipped_ = 0, truncated_ = 0, pollErrors_ = 0;
  int lastErrno_ = 0;
};

}  // namespace lateral
