/** A time given to the API (a query or body field): ISO 8601 or epoch milliseconds, else 400 bad_time. */
import { BadRequestError } from '../shared/errors.js';

export function parseTimeParam(value: string | number, name: string): number {
  const t = typeof value === 'number' ? value : /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(t)) throw new BadRequestError('bad_time', `${name} must be ISO 8601 or epoch milliseconds`);
  return t;
}
