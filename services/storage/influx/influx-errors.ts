/**
 * One classification of InfluxDB failures for the v1 and v2 stores, so the StoreForwarder sees the same
 * `retryable` decision whichever API is behind it. Follows Telegraf's influxdb_v2 output
 * (plugins/outputs/influxdb_v2/http.go): 429/502/503/504 and other 5xx are the server's trouble →
 * keep and retry; 400/422 and other 4xx are the request's fault → drop; 401/403 are kept and
 * retried, because a rotated token is an operator's fix and dropping would lose data for good.
 * We drop 413 where Telegraf splits the batch: the StoreForwarder resends the same batch, so a retry
 * could never succeed and would block the outbox.
 *
 * Messages carry the server's own error text (trimmed) and never a URL with credentials.
 */
import { SinkError } from '../reading-store.js';
import { LineProtocolError } from './influx-mapping.js';

export type InfluxErrorCode =
  | 'influx_unreachable'
  | 'influx_timeout'
  | 'influx_server_error'
  | 'influx_throttled'
  | 'influx_unauthorized'
  | 'influx_not_found'
  | 'influx_rejected'
  | 'influx_unrepresentable'
  | 'influx_bad_response';

const MAX_DETAIL = 300;

/** The error text of an InfluxDB reply: v1 `{"error":…}`, v2 `{"code":…,"message":…}`, else the body. */
export function serverErrorText(body: string): string {
  let text = body.trim();
  try {
    const json = JSON.parse(text) as { error?: unknown; message?: unknown };
    if (typeof json.error === 'string') text = json.error;
    else if (typeof json.message === 'string') text = json.message;
  } catch {
    // not JSON: keep the body as it is
  }
  return text.length > MAX_DETAIL ? `${text.slice(0, MAX_DETAIL)}…` : text;
}

/** An HTTP reply that is not a success, classified. `what` names the operation (e.g. 'write'). */
export function statusError(store: string, what: string, status: number, body: string): SinkError {
  const detail = serverErrorText(body);
  const msg = `${store} ${what}: HTTP ${status}${detail ? `: ${detail}` : ''}`;
  if (status === 429) return new SinkError(msg, true, 'influx_throttled');
  if (status === 401 || status === 403) return new SinkError(msg, true, 'influx_unauthorized');
  if (status === 408) return new SinkError(msg, true, 'influx_timeout');
  if (status === 404) return new SinkError(msg, false, 'influx_not_found');
  if (status >= 400 && status < 500) return new SinkError(msg, false, 'influx_rejected');
  if (status >= 500) return new SinkError(msg, true, 'influx_server_error');
  // 1xx/3xx: a proxy in the way or a wrong URL; worth retrying once it is fixed.
  return new SinkError(msg, true, 'influx_bad_response');
}

/** A failure before any HTTP status: refused connection, DNS, reset, timeout; or a value we cannot map. */
export function transportError(store: string, what: string, err: unknown): SinkError {
  if (err instanceof SinkError) return err;
  if (err instanceof LineProtocolError) {
    return new SinkError(`${store} ${what}: ${err.message}`, false, 'influx_unrepresentable', { cause: err });
  }
  const name = err instanceof Error ? err.name : '';
  if (name === 'TimeoutError' || name === 'RequestTimedOutError' || name === 'AbortError') {
    return new SinkError(`${store} ${what}: timed out`, true, 'influx_timeout', { cause: err });
  }
  return new SinkError(`${store} ${what}: unreachable (${describeCause(err)})`, true, 'influx_unreachable', { cause: err });
}

/** fetch() wraps the socket error as TypeError('fetch failed', { cause }); show the errno code. */
function describeCause(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: unknown }).cause;
  const code = (cause as { code?: unknown } | undefined)?.code ?? (err as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  if (cause instanceof Error) return cause.message;
  return err.message;
}
