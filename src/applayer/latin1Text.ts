// Bytes to a latin1 string through a Buffer view (Buffer.from(uint8array) would copy).

export function latin1Text(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}
