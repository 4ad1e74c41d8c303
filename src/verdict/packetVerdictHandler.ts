// The seam between the live data path and the engine: given one batch of queued packets,
// fill in their verdicts.
//
// Each batch arrives with every slot preset to accept (NF_REPEAT + repeat mark). A
// handler calls batch.drop(i) for packets to drop and batch.bypass(i) for flows that need
// no more inspection (past depth, or matched by `pass`). It must finish synchronously:
// the batch's memory is reused for the next one, and the queue verdicts the whole batch,
// in order, as soon as the handler returns (which is what makes VERDICT_BATCH safe).
// The engine (decode → flow → stream → applayer → detect) plugs in here; see
// createVerdictHandler.ts for where a worker gets its handler.
import type { PacketBatch } from '../capture/packetBatch';

export interface PacketVerdictHandler {
  handleBatch(batch: PacketBatch): void;
  /** Called once when the worker stops (flush state, write final events). */
  close?(): void;
}
