/**
 * Failed bearer tokens, per address (issue #12 item 11). Session and API tokens are 256 random
 * bits, but ADMIN_TOKEN is chosen by the operator and may be guessable, and an address presenting
 * token after wrong token is probing either way. So: at most `maxFailures` wrong tokens per address
 * in `windowMs` (10 per minute); after that the address is throttled until the oldest counted
 * failure leaves the window: a token that does not work is answered 429 with Retry-After (the live
 * feed closes with 4029) instead of 401, and is not counted again, so a client that honours
 * Retry-After recovers. A request without a token is not a guess and is not counted.
 *
 * Valid tokens are not slowed. From a throttled address the service still accepts the tokens it
 * issued itself (login sessions, API tokens: unguessable, so answering them leaks nothing), and the
 * admin token only where it has worked from that very address before; elsewhere the admin token is
 * not even compared, and the answer and the work done are the same as for a wrong token, so a
 * throttled guesser learns nothing about it. The duty room behind one NAT (or a reverse proxy)
 * with a misconfigured machine next to it keeps working; the one thing that waits out the window
 * is a first use of the admin token from an address that is throttled right then.
 */
import { sha256 } from '../devices/credentials.js';
import { TooManyAttemptsError } from './auth-service.js';
import { FailureLog } from './throttle.js';

export const DEFAULT_BEARER_THROTTLE = Object.freeze({ maxFailures: 10, windowMs: 60 * 1000 });

export type BearerOutcome = 'invalid' | 'throttled';

export interface BearerGuardOptions {
  now?: () => number;
  maxFailures?: number;
  windowMs?: number;
  /** called for each wrong token and each throttled request (the metric) */
  onFailure?: (outcome: BearerOutcome) => void;
  /** how many (address, token) pairs that worked to remember */
  maxKnownGood?: number;
}

/** Resolves a token; `admin: false` = do not compare it with the admin token (issued tokens only). */
export type BearerResolver<T> = (token: string, opts: { admin: boolean }) => T | undefined | Promise<T | undefined>;

export class BearerGuard {
  private readonly now: () => number;
  private readonly maxFailures: number;
  private readonly windowMs: number;
  private readonly failures: FailureLog;
  private readonly onFailure: (outcome: BearerOutcome) => void;
  /** address + token digest pairs that authenticated, least recently used first */
  private readonly knownGood = new Set<string>();
  private readonly maxKnownGood: number;

  constructor(opts: BearerGuardOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.maxFailures = opts.maxFailures ?? DEFAULT_BEARER_THROTTLE.maxFailures;
    this.windowMs = opts.windowMs ?? DEFAULT_BEARER_THROTTLE.windowMs;
    this.failures = new FailureLog(this.windowMs, 10_000, this.maxFailures);
    this.onFailure = opts.onFailure ?? (() => undefined);
    this.maxKnownGood = opts.maxKnownGood ?? 10_000;
  }

  /**
   * Resolves `token` from `address`: its result, undefined for a wrong token (a counted failure),
   * or TooManyAttemptsError when the address is throttled and the token does not pass as above.
   */
  async authenticate<T>(token: string, address: string, resolve: BearerResolver<T>): Promise<T | undefined> {
    const now = this.now();
    const recent = this.failures.recent(address, now);
    const pair = `${address}\n${sha256(token)}`;
    if (recent.length < this.maxFailures) {
      // counted as a failure before the look-up (it waits on the store), so a burst of parallel
      // guesses cannot all pass the check above; a token that works takes it back
      this.failures.fail(address, now);
      let result: T | undefined;
      try {
        result = await resolve(token, { admin: true });
      } catch (err) {
        // the look-up failed (the store is down): no answer about the token, so no guess counted
        this.failures.forgive(address, now);
        throw err;
      }
      if (result === undefined) {
        this.onFailure('invalid');
        return undefined;
      }
      this.failures.forgive(address, now);
      this.remember(pair);
      return result;
    }
    const result = await resolve(token, { admin: this.knownGood.has(pair) });
    if (result !== undefined) {
      this.remember(pair);
      return result;
    }
    this.onFailure('throttled');
    const waitMs = recent[recent.length - this.maxFailures]! + this.windowMs - now;
    throw new TooManyAttemptsError(Math.max(1, Math.ceil(waitMs / 1000)), 'failed bearer tokens from this address');
  }

  private remember(pair: string): void {
    // re-insert: Set order doubles as least recently used first
    this.knownGood.delete(pair);
    this.knownGood.add(pair);
    if (this.knownGood.size > this.maxKnownGood) this.knownGood.delete(this.knownGood.values().next().value!);
  }
}
