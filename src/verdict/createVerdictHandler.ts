// Where each queue worker gets its PacketVerdictHandler. Today: accept all. The
// integrator replaces the body with the engine (rules from options.rulesFile, EVE
// output, ...) — one place, loaded inside each worker thread.
import type { PacketVerdictHandler } from './packetVerdictHandler';
import { AcceptAllHandler } from './acceptAllHandler';

export interface VerdictHandlerOptions {
  queue: number;
  /** Reserved for the engine: rules file, EVE target, etc. Serialisable (crosses threads). */
  settings: Record<string, string | number | boolean | undefined>;
}

export function createVerdictHandler(_options: VerdictHandlerOptions): PacketVerdictHandler {
  return new AcceptAllHandler();
}
