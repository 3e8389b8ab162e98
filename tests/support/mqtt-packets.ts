/** Raw MQTT 3.1.1 pieces for tests that talk to the broker byte by byte. */

/** The fixed header's Remaining Length (MQTT 3.1.1 §2.2.3): 7 bits a byte, continuation bit 0x80. */
export function remainingLength(n: number): Buffer {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
}
