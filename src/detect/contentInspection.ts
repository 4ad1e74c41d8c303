// Runs one signature's buffer list over one buffer, following Suricata's
// DetectEngineContentInspection: keywords in order, each relative keyword counting from the
// previous match; when a later keyword fails, an earlier content/pcre is retried at its
// next occurrence (only if the keyword after it is relative — otherwise another occurrence
// cannot change the outcome). Steps are bounded per buffer (Suricata's
// inspection-recursion-limit, 3000) so crafted input cannot make this explode.

import type { BufferMatch, InspectState } from './signature';

export const INSPECTION_STEP_LIMIT = 3000;

function step(items: BufferMatch[], i: number, buf: Uint8Array, prevEnd: number, st: InspectState): boolean {
  if (i === items.length) return true;
  const m = items[i]!;
  const nextRelative = i + 1 < items.length && items[i + 1]!.relative;
  let from = 0;
  for (;;) {
    if (++st.steps > INSPECTION_STEP_LIMIT) return false;
    if (!m.exec(buf, prevEnd, from, st)) return false;
    const start = st.start;
    if (step(items, i + 1, buf, st.end, st)) return true;
    if (!m.retryable || !nextRelative) return false;
    from = start + 1;
  }
}

/**
 * True when all keywords of the list match in buf. The latin1 string pcre needs is cached
 * on st by buffer identity; the engine clears it once per packet (st.strOf = null).
 */
export function inspectBuffer(items: BufferMatch[], buf: Uint8Array, st: InspectState): boolean {
  st.steps = 0;
  return step(items, 0, buf, 0, st);
}
