// The queue's copy range (NFQA_CFG_PARAMS copy_range): how many bytes of each queued packet
// the kernel copies to us (DESIGN.md "Copy range").
//
// With rules, every payload byte of a flow inside its inspection depth is inspected and a GSO
// packet carries up to 64 KiB, so the whole packet is needed: the kernel's maximum, 65535.
// Past the depth a flow is bypassed (src/verdict/bypassPolicy.ts) and not queued at all, so
// no smaller "post-depth" range is needed. Without an engine (`--no-rules`) only the headers
// are read (the worker counts IP version and protocol): 256 bytes cover IPv6 with extension
// headers and TCP with options. Measured here (docs/performance.md): ~25 % less CPU per GB in
// `lateral run --no-rules` with the headers-only range.

/** The whole packet: what inspection needs. */
export const FULL_COPY_RANGE = 0xffff;
/** Headers only: what the counters need when no rule inspects payloads. */
export const HEADER_COPY_RANGE = 256;

/** The default copy range for a queue whose packets are (or are not) inspected by rules. */
export function copyRangeFor(inspectsPayload: boolean): number {
  return inspectsPayload ? FULL_COPY_RANGE : HEADER_COPY_RANGE;
}
