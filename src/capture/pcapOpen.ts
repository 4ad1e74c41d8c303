// Open a capture file of either format by its magic number (not its name). Its errors name
// the byte offset like the readers' ("at byte 0"), so every LATERAL_ERR_PCAP reads the same.
import { LateralError } from '../errors';
import { CaptureReader } from './pcapRecord';
import { PcapFileBytes } from './pcapFileBytes';
import { PcapClassicReader, PCAP_MAGIC_NSEC, PCAP_MAGIC_USEC } from './pcapClassic';
import { PcapngReader, PCAPNG_SHB } from './pcapng';

export function openPcap(path: string): CaptureReader {
  const bytes = new PcapFileBytes(path);
  try {
    const at = bytes.ensure(4);
    if (at < 0) throw new LateralError('LATERAL_ERR_PCAP', `empty or too short to be a capture (${bytes.available} bytes) at byte 0`, { file: path, line: 0 });
    const b = bytes.buffer;
    const be = ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
    const le = ((b[at + 3]! << 24) | (b[at + 2]! << 16) | (b[at + 1]! << 8) | b[at]!) >>> 0;
    if (be === PCAPNG_SHB) return new PcapngReader(path, bytes);
    if (be === PCAP_MAGIC_USEC || be === PCAP_MAGIC_NSEC || le === PCAP_MAGIC_USEC || le === PCAP_MAGIC_NSEC) {
      return new PcapClassicReader(path, bytes);
    }
    throw new LateralError('LATERAL_ERR_PCAP', `not a pcap or pcapng file (magic 0x${be.toString(16).padStart(8, '0')}) at byte 0`, { file: path, line: 0 });
  } catch (err) {
    bytes.close();
    throw err;
  }
}
