/**
 * Packet size limits at the socket, before aedes' parser (mqtt-packet) buffers a packet: it would
 * otherwise collect a declared 256 MiB before looking at it, authenticated or not.
 *
 * The guard reads only fixed headers (MQTT 3.1.1 §2.2: the type byte and the Remaining Length
 * varint) as bytes arrive and skips bodies by counting, so a chunk costs a few operations per
 * packet in it, and nothing is copied. The connection is closed as soon as a declared length is
 * over its bound, without waiting for the bytes:
 * - until the CONNECT is accepted, every packet (the CONNECT itself included) is bounded by
 *   `controlBytes`;
 * - after that, a PUBLISH by `publishBytes` (MAX_PAYLOAD_BYTES plus room for the topic and packet
 *   id), anything else by `controlBytes`;
 * - a Remaining Length with a 4th continuation byte (a 5-byte varint, malformed) closes too.
 *
 * It sits in the stream's `read()`: aedes reads with `conn.read(null)` on 'readable', and the
 * guard sees each chunk before aedes does, refusing it (null) when it carries an oversized
 * header, so no part of that packet reaches the parser. No extra stream, no 'data' listener (that
 * would not stop the chunk reaching the parser).
 */
import type { Duplex } from 'node:stream';

export interface PacketLimits {
  /** largest Remaining Length of a CONNECT, of any packet before it is accepted, and of every non-PUBLISH */
  readonly controlBytes: number;
  /** largest Remaining Length of a PUBLISH once the CONNECT is accepted */
  readonly publishBytes: number;
}

export type GuardState = 'unauthenticated' | 'authenticated';

const PUBLISH = 3;

export class PacketGuard {
  /** bytes of the current packet's body still to skip */
  private skip = 0;
  /** inside a fixed header (after its type byte) */
  private inHeader = false;
  private type = 0;
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private publishLimit: number;
  state: GuardState = 'unauthenticated';

  constructor(private readonly limits: PacketLimits) {
    this.publishLimit = limits.controlBytes;
  }

  /** The CONNECT was accepted: a PUBLISH may now be up to `publishBytes`. */
  authenticated(): void {
    this.state = 'authenticated';
    this.publishLimit = this.limits.publishBytes;
  }

  /** Follow the packet boundaries through one chunk; false when a header in it is over its bound. */
  check(chunk: Buffer): boolean {
    const n = chunk.length;
    if (this.skip >= n) {
      this.skip -= n;
      return true;
    }
    let i = this.skip;
    this.skip = 0;
    while (i < n) {
      if (!this.inHeader) {
        this.type = chunk[i++]! >> 4;
        this.inHeader = true;
        this.length = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
        continue;
      }
      const b = chunk[i++]!;
      this.length += (b & 0x7f) * this.multiplier;
      if (b & 0x80) {
        if (++this.lengthBytes === 4) return false; // a 5th length byte would follow: malformed
        this.multiplier *= 128;
        continue;
      }
      this.inHeader = false;
      if (this.length > (this.type === PUBLISH ? this.publishLimit : this.limits.controlBytes)) return false;
      const rest = n - i;
      if (this.length > rest) {
        this.skip = this.length - rest;
        return true;
      }
      i += this.length;
    }
    return true;
  }
}

/**
 * Put a guard in front of `stream`'s readers: a chunk with an oversized packet header is never
 * handed out; `onTooLarge` is told and the stream destroyed instead.
 */
export function guardStream(stream: Duplex, limits: PacketLimits, onTooLarge: (state: GuardState) => void): PacketGuard {
  const guard = new PacketGuard(limits);
  const read = stream.read;
  stream.read = function guardedRead(this: Duplex, size?: number) {
    const chunk = read.call(this, size) as Buffer | null;
    if (chunk === null || guard.check(chunk)) return chunk;
    onTooLarge(guard.state);
    this.destroy();
    return null;
  };
  return guard;
}
