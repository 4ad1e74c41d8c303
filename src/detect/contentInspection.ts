// Runs one signature's buffer list over one buffer, following Suricata's
// DetectEngineContentInspection: keywords in order, each relative keyword counting from the
// previous match; when a later keyword fails, an earlier content/pcre is retried at its
// next occurrence (only if the keyword after it is relative — otherwise another occurrence
// cannot change the outcome). Steps are bounded per buffer (Suricata's
// inspection-recursion-limit, 3000) so crafted input cannot make this explode.

import type { BufferMatch, InspectState } from './signature';

export const INSPECTION_STEP_LIMIT = 3000;

function step(items: BufferMatch[], i: number, buf: Uint8Array, prevEnd: number, maxEnd: number, st: InspectState): boolean {
  if (i === items.length) return st.minEnd < 0 || maxEnd > st.minEnd;
  const m = items[i]!;
  // With a minimum end (stream inspection), a later occurrence may be the one that reaches
  // new data, so retry even when the next keyword is not relative.
  const retry = m.retryable && ((i + 1 < items.length && items[i + 1]!.relative) || st.minEnd >= 0);
  let from = 0;
  for (;;) {
    if (++st.steps > INSPECTION_STEP_LIMIT) return false;
    if (!m.exec(buf, prevEnd, from, st)) return false;
    const start = st.start;
    const end = st.end;
    if (step(items, i + 1, buf, end, end > maxEnd ? end : maxEnd, st)) return true;
    if (!retry) return false;
    from = start + 1;
  }
}

/**
 * True when all keywords of the list match in buf; with minEnd >= 0, only a match whose
 * furthest keyword ends beyond index minEnd (exclusive end > minEnd) counts (raw-stream progress: bytes up to minEnd
 * were inspected on an earlier packet, so a match wholly inside them was already reported;
 * Suricata does not re-inspect raw stream data behind its progress). The latin1 string pcre needs is cached
 * on st by buffer identity; the engine clears it once per packet (st.strOf = null).
 */
export function inspectBuffer(items: BufferMatch[], buf: Uint8Array, st: InspectState, minEnd = -1): boolean {
  st.steps = 0;
  st.minEnd = minEnd;
  return step(items, 0, buf, 0, -1, st);
}
