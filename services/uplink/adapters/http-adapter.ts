/**
 * HTTP(S) JSON adapter: one POST per batch to UPLINK_HTTP_URL with the "firewatch.uplink/v1"
 * body (mapped by UPLINK_HTTP_MAPPING). Authentication: a bearer token, or an HMAC-SHA256
 * signature header `X-Firewatch-Signature: t=<unix s>,v1=<hex>` over `${t}.${body}` (the
 * timestamp inside the MAC lets the platform refuse replays).
 *
 *   2xx → accepted · 429, 5xx, timeout, connection error → retry · other 4xx → dead letter
 */
import { createHmac } from 'node:crypto';
import type { Clock } from '../../shared/clock.js';
import { buildPayload, canonicalItem, mappingSends, type Mapping } from '../mapping.js';
import { UPLINK_FORMAT, UplinkError, type StoredUplinkItem, type UplinkAdapter } from '../model.js';

export interface HttpAdapterOptions {
  url: string;
  token?: string;
  hmacSecret?: string;
  mapping?: Mapping;
  timeoutMs: number;
  maxBatch?: number;
  clock: Clock;
}

export const SIGNATURE_HEADER = 'x-firewatch-signature';

/** `t=<unix>,v1=<hex HMAC-SHA256(secret, `${t}.${body}`)>` */
export function signBody(secret: string, body: string, unixS: number): string {
  const mac = createHmac('sha256', secret).update(`${unixS}.${body}`).digest('hex');
  return `t=${unixS},v1=${mac}`;
}

export class HttpUplinkAdapter implements UplinkAdapter {
  readonly name = 'http';
  readonly maxBatch: number;

  constructor(private readonly opts: HttpAdapterOptions) {
    this.maxBatch = opts.maxBatch ?? 100;
  }

  async send(items: readonly StoredUplinkItem[]): Promise<void> {
    if (!items.some((i) => mappingSends(this.opts.mapping, i.type))) return;
    const sentAt = new Date(this.opts.clock.now());
    const body = JSON.stringify(buildPayload(items.map((i) => canonicalItem(i, this.opts.mapping?.categories)), sentAt, this.opts.mapping));
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-firewatch-format': UPLINK_FORMAT,
    };
    if (this.opts.token) headers.authorization = `Bearer ${this.opts.token}`;
    if (this.opts.hmacSecret) headers[SIGNATURE_HEADER] = signBody(this.opts.hmacSecret, body, Math.floor(sentAt.getTime() / 1000));
    let res: Response;
    try {
      res = await fetch(this.opts.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(this.opts.timeoutMs) });
    } catch (err) {
      const timeout = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
      const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
      throw new UplinkError(timeout ? `timeout after ${this.opts.timeoutMs} ms` : `request failed${cause || `: ${String(err)}`}`, true, { cause: err });
    }
    const text = await res.text().catch(() => '');
    if (res.ok) return;
    const reason = `HTTP ${res.status}${text ? `: ${text.slice(0, 300)}` : ''}`;
    const retryable = res.status === 429 || res.status >= 500 || res.status === 408;
    throw new UplinkError(reason, retryable);
  }

  close(): void {}
}
