/**
 * HTTP(S) JSON adapter: one POST per batch to UPLINK_HTTP_URL with the "firewatch.uplink/v1"
 * body (mapped by UPLINK_HTTP_MAPPING). Authentication: a bearer token, or an HMAC-SHA256
 * signature header `X-Firewatch-Signature: t=<unix s>,v1=<hex>` over `${t}.${body}` (the
 * timestamp inside the MAC lets the platform refuse replays).
 *
 *   2xx → accepted · 3xx (not followed), 408, 429, 5xx, timeout, connection error → retry · other 4xx → dead letter
 *
 * Requests go through the adapter's own keep-alive agent (node:http / node:https), not the
 * process-wide fetch pool, so that close() ends the request in flight and closes every connection
 * to the platform at once (the uplink's shutdown waits for the send in flight). Redirects are not
 * followed: a 3xx is retried, its Location in the reason, so the operator can correct the URL.
 */
import { createHmac } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Clock } from '../../shared/clock.js';
import { buildPayload, canonicalItem, mappingSends, type Mapping } from '../mapping.js';
import { UPLINK_FORMAT, UplinkError, type StoredUplinkItem, type UplinkAdapter, type UplinkItem } from '../model.js';

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
  private readonly url: URL;
  private readonly agent: HttpAgent;
  /** aborted by close(): ends the request in flight and refuses any after */
  private readonly closing = new AbortController();

  constructor(private readonly opts: HttpAdapterOptions) {
    this.maxBatch = opts.maxBatch ?? 100;
    this.url = new URL(opts.url);
    // as Node's global agent: an idle connection is dropped before a platform's usual 5 s keep-alive
    // ends it (or as the platform's Keep-Alive hint says), so a batch never goes out on a closing one
    const agentOptions = { keepAlive: true, timeout: 4000 };
    this.agent = this.url.protocol === 'https:' ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
  }

  async send(items: readonly StoredUplinkItem[]): Promise<void> {
    if (this.closing.signal.aborted) throw new UplinkError('the HTTP uplink is closed', true);
    if (!items.some((i) => mappingSends(this.opts.mapping, i.type))) return;
    const sentAt = new Date(this.opts.clock.now());
    const body = JSON.stringify(buildPayload(items.map((i) => canonicalItem(i, this.opts.mapping?.categories)), sentAt, this.opts.mapping));
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-firewatch-format': UPLINK_FORMAT,
    };
    if (this.opts.token) headers.authorization = `Bearer ${this.opts.token}`;
    if (this.opts.hmacSecret) headers[SIGNATURE_HEADER] = signBody(this.opts.hmacSecret, body, Math.floor(sentAt.getTime() / 1000));
    let res: { status: number; text: string; location: string | undefined };
    try {
      res = await this.post(body, headers);
    } catch (err) {
      if (this.closing.signal.aborted) throw new UplinkError('the HTTP uplink closed while sending', true, { cause: err });
      const timeout = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
      throw new UplinkError(timeout ? `timeout after ${this.opts.timeoutMs} ms` : `request failed: ${err instanceof Error ? err.message : String(err)}`, true, { cause: err });
    }
    const { status, text } = res;
    if (status >= 200 && status < 300) return;
    const redirect = status >= 300 && status < 400;
    const reason = `HTTP ${status}${redirect ? ` to ${res.location ?? '(no Location)'}, not followed: set UPLINK_HTTP_URL` : text ? `: ${text.slice(0, 300)}` : ''}`;
    const retryable = redirect || status === 429 || status >= 500 || status === 408;
    throw new UplinkError(reason, retryable);
  }

  sends(item: UplinkItem): boolean {
    return mappingSends(this.opts.mapping, item.type);
  }

  /** One POST; resolves with the answer once its body is read (so the connection can be reused). */
  private post(body: string, headers: Record<string, string>): Promise<{ status: number; text: string; location: string | undefined }> {
    const signal = AbortSignal.any([AbortSignal.timeout(this.opts.timeoutMs), this.closing.signal]);
    const request = this.url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = request(this.url, { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, agent: this.agent, signal }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (text.length < 1000) text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text, location: res.headers.location }));
        res.on('error', reject);
        res.on('close', () => {
          if (!res.complete) reject(signal.aborted ? (signal.reason as Error) : new Error('the platform closed the connection mid-answer'));
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  close(): void {
    this.closing.abort();
    this.agent.destroy();
  }
}
