/**
 * What one payload is while it goes through the accept path (pipeline.ts), and what comes out:
 * the stages fill an IngestContext, the Accumulator counts it. Its own module so that the
 * pipeline and the accumulator both import it and neither imports the other.
 */
import type { Channel, FieldRejection, Reading, RejectReason } from '../telemetry/telemetry.js';

export interface RawMessage {
  deviceId: string;
  channel: Channel;
  payload: Buffer;
  receivedAt: number;
}

export interface Rejection {
  reason: RejectReason;
  detail: string;
}

export interface IngestContext {
  raw: RawMessage;
  /** decoded message objects, before validation */
  messages: unknown[];
  readings: Reading[];
  rejections: Rejection[];
  /** fields of accepted readings rejected on their own (one bad channel, issue #16 item 5) */
  fieldRejections: FieldRejection[];
  duplicates: number;
}

export interface IngestResult {
  accepted: Reading[];
  rejections: Rejection[];
  duplicates: number;
}
