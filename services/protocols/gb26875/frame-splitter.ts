/**
 * Cuts a GB/T 26875.3 TCP byte stream into frames (docs/standards.md fact 6: several frames may
 * arrive stuck together, and one frame may be split across reads; split by the length field,
 * never by read boundaries).
 *
 *   push(chunk) ──► [scan for '@@'] ──► [need 26 B: read length] ──► [need 30+len B] ──► checks
 *                        │ none               │ len > 1024                    │ no '##' / bad sum
 *                        ▼                    ▼                               ▼
 *                   'garbage' event     'too_long' event: drop from this '@@' to the next one
 *                                        ('bad_end' likewise; 'bad_checksum' drops the frame)
 *
 * Memory is bounded: after every push the retained bytes are either one '@' (a possible half
 * start marker) or a prefix of one candidate frame, so never more than MAX_FRAME - 1 bytes
 * (MAX_PENDING), however much garbage arrives.
 *
 * False starts (found by tests/unit/gb26875-properties.test.ts): a '@@' in garbage, or a stray '@'
 * just before a real frame ('@' + '@@…' reads as a frame one byte early), gives a candidate whose
 * length field is whatever bytes sit there. Waiting for that many bytes held every real frame
 * behind it hostage until up to 1 KB more arrived (minutes of heartbeats; a fire alarm must reach
 * the centre within 10 s, fact 7), and a false candidate whose end happened to land on a real
 * frame's '##' dropped that frame as bad_checksum. So while a candidate waits, or when it fails its
 * checksum, a complete frame with valid markers and checksum starting inside it wins: the bytes
 * before it are garbage. (A real frame whose app data embeds a whole valid frame would be cut; no
 * standard type carries one.)
 *
 * Emitted frames have a valid start, length, end marker and checksum (fact 5, fact 12); the
 * command byte and app data are left to decodeFrame / decodeAppData.
 */
import { END_BYTE, MAX_APP_DATA, MAX_FRAME, OFFSET, OVERHEAD, START, START_BYTE, frameChecksum } from './frame.js';

export type SplitReason = 'garbage' | 'too_long' | 'bad_end' | 'bad_checksum';

export type SplitterOutput =
  | { kind: 'frame'; frame: Buffer }
  | {
      kind: 'invalid';
      reason: SplitReason;
      /** bytes discarded by this event */
      dropped: number;
      detail: string;
      /** for bad_checksum only: the whole rejected frame, so the caller can read its serial and deny it (fact 3) */
      bytes?: Buffer;
    };

/** Bytes needed before the length field (1-based bytes 25–26) can be read. */
const LENGTH_READABLE = OFFSET.length + 2;
/** The most a splitter ever holds between pushes: one byte short of the largest frame. */
export const MAX_PENDING = MAX_FRAME - 1;

export class FrameSplitter {
  #pending: Buffer = Buffer.alloc(0);

  /** Bytes held while waiting for the rest of a frame (always ≤ MAX_PENDING). */
  get pendingBytes(): number {
    return this.#pending.length;
  }

  /** Discard any partial frame, e.g. when the connection closes. Returns the bytes discarded. */
  reset(): number {
    const n = this.#pending.length;
    this.#pending = Buffer.alloc(0);
    return n;
  }

  /** Feed bytes from the stream; returns complete frames and invalid segments, in stream order. */
  push(chunk: Uint8Array): SplitterOutput[] {
    const buf =
      this.#pending.length === 0
        ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
        : Buffer.concat([this.#pending, chunk]);
    const out: SplitterOutput[] = [];
    let pos = 0;
    // Frames that start inside the held bytes and end there were already looked for by the push
    // that left them waiting; only frames completed by this chunk can be new.
    const endFloor = this.#pending.length;
    /** A false start at `pos`: skip to the valid frame at `q` as garbage. */
    const skipTo = (q: number, why: string): void => {
      out.push({ kind: 'invalid', reason: 'garbage', dropped: q - pos, detail: `false "@@" start (${why}); a valid frame begins ${q - pos} B later` });
      pos = q;
    };

    /** Drop [pos, next '@@' at or after `from`) as one event; keep a trailing '@' if none is found. */
    const dropUntilNextStart = (from: number, reason: SplitReason, detail: string): void => {
      let next = buf.indexOf(START, from);
      if (next === -1) next = buf[buf.length - 1] === START_BYTE && buf.length - 1 >= from ? buf.length - 1 : buf.length;
      if (next > pos) out.push({ kind: 'invalid', reason, dropped: next - pos, detail });
      pos = next;
    };

    while (pos < buf.length) {
      if (buf[pos] !== START_BYTE || buf[pos + 1] !== START_BYTE) {
        // A lone '@' at the very end may be half of a start marker: wait for the next byte.
        if (pos === buf.length - 1 && buf[pos] === START_BYTE) break;
        dropUntilNextStart(pos, 'garbage', 'bytes before a "@@" start marker');
        continue;
      }
      if (buf.length - pos < LENGTH_READABLE) break;
      const len = buf.readUInt16LE(pos + OFFSET.length);
      if (len > MAX_APP_DATA) {
        dropUntilNextStart(pos + 1, 'too_long', `length field ${len} exceeds ${MAX_APP_DATA}; resynchronising`);
        continue;
      }
      const total = OVERHEAD + len;
      if (buf.length - pos < total) {
        const q = findFrame(buf, pos + 1, buf.length, endFloor);
        if (q === -1) break;
        skipTo(q, `its length field ${len} asks for bytes not yet received`);
        continue;
      }
      if (buf[pos + total - 2] !== END_BYTE || buf[pos + total - 1] !== END_BYTE) {
        dropUntilNextStart(pos + 1, 'bad_end', `no "##" where length field ${len} puts the end; resynchronising`);
        continue;
      }
      const candidate = Buffer.from(buf.subarray(pos, pos + total)); // copy: do not pin the caller's chunk
      const carried = candidate[total - 3];
      const computed = frameChecksum(candidate);
      if (carried !== computed) {
        const q = findFrame(buf, pos + 1, pos + total, endFloor);
        if (q !== -1) {
          skipTo(q, 'its checksum is wrong');
          continue;
        }
        // The end marker sits where the length says, so the boundary is trusted: drop just this frame.
        out.push({
          kind: 'invalid',
          reason: 'bad_checksum',
          dropped: total,
          detail: `checksum 0x${hex(carried ?? 0)}, computed 0x${hex(computed)}`,
          bytes: candidate,
        });
      } else {
        out.push({ kind: 'frame', frame: candidate });
      }
      pos += total;
    }

    this.#pending = Buffer.from(buf.subarray(pos));
    if (this.#pending.length > MAX_PENDING) {
      // Unreachable by construction (a waiting candidate is < MAX_FRAME); guard the bound anyway.
      throw new Error(`FrameSplitter invariant broken: ${this.#pending.length} B pending`);
    }
    return out;
  }
}

/**
 * The first '@@' at or after `from` and before `startBefore` where a complete frame with a valid
 * length, end marker and checksum lies within `buf` and ends after `endFloor`; -1 if none.
 */
function findFrame(buf: Buffer, from: number, startBefore: number, endFloor: number): number {
  for (let q = buf.indexOf(START, from); q !== -1 && q < startBefore; q = buf.indexOf(START, q + 1)) {
    if (buf.length - q < LENGTH_READABLE) break; // later starts have even fewer bytes after them
    const len = buf.readUInt16LE(q + OFFSET.length);
    if (len > MAX_APP_DATA) continue;
    const end = q + OVERHEAD + len;
    if (end > buf.length || end <= endFloor) continue;
    if (buf[end - 2] !== END_BYTE || buf[end - 1] !== END_BYTE) continue;
    if (buf[end - 3] === frameChecksum(buf.subarray(q, end))) return q;
  }
  return -1;
}

function hex(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, '0');
}
