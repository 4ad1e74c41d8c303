// The handler used until the detection engine is wired in: every packet passes.
// Batches come preset to accept, so there is nothing to do per packet.
import type { PacketBatch } from '../capture/packetBatch';
import type { PacketVerdictHandler } from './packetVerdictHandler';

export class AcceptAllHandler implements PacketVerdictHandler {
  handleBatch(_batch: PacketBatch): void {
    // Preset verdicts stand.
  }
}
