// Counters for every app-layer decision that drops, truncates or gives up on data, so no
// loss is silent. One instance per worker; AppLayerState instances add to it.

export class AppLayerCounters {
  /** Flows whose protocol was identified, indexed by AppProtoId. */
  readonly detected = new Float64Array(16);
  /** Flows where detection gave up (both sides unknown or the detection window ran out). */
  detectFailed = 0;
  /** Bytes dropped because a detection buffer hit its limit. */
  detectBufferOverflow = 0;
  httpTransactions = 0;
  httpLineTooLong = 0;
  httpHeaderBlockTooLong = 0;
  httpInvalidRequestLine = 0;
  httpInvalidResponseLine = 0;
  httpInvalidChunk = 0;
  /** Body bytes beyond the configured body limit (not kept for inspection). */
  httpBodyTruncatedBytes = 0;
  httpDecompressFailed = 0;
  /** Decompressed output cut at the body limit (includes decompression bombs). */
  httpDecompressTruncated = 0;
  /** Transactions dropped because too many were open on one flow. */
  httpTxEvicted = 0;
  /** Header fields not kept: beyond 64 repetitions or 1024 names per message (libhtp-like). */
  httpHeadersDropped = 0;
  httpTunnels = 0;
  /** Client bytes after CONNECT beyond what is held until the response (64 KiB). */
  httpConnectHeldDropped = 0;
  /** HTTP/2 (http2Parser.ts): frames, transactions, and everything not kept or malformed. */
  http2Frames = 0;
  http2Transactions = 0;
  http2TxEvicted = 0;
  http2BadPreface = 0;
  http2MalformedFrames = 0;
  /** Non-DATA frames longer than the buffer limit (skipped). */
  http2FrameTooLong = 0;
  http2HeaderBlockTooLong = 0;
  http2HpackErrors = 0;
  /** Frames not recorded on a transaction: its per-direction frame or header byte budget was spent. */
  http2FramesDropped = 0;
  dnsMessages = 0;
  dnsMalformed = 0;
  tlsRecords = 0;
  tlsMalformed = 0;
  tlsHeartbeats = 0;
  /** Certificates not kept because the per-flow bound (count or bytes) was reached. */
  tlsCertificatesDropped = 0;
  sshBanners = 0;
  sshMalformed = 0;
  /** Stream gaps reported by reassembly; the parser of that direction stops. */
  gaps = 0;
}
