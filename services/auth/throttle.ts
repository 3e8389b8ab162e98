/**
 * Slowing down password guessing without locking the real user out (issue #12 item 10).
 *
 * The old rule (5 failures per 15 minutes per username or per address → every login refused for
 * the rest of the window) was a denial of service: five wrong passwords from anywhere locked the
 * duty officer out for 900 s, and one noisy machine behind the duty room's NAT locked out everyone
 * there. The policy now:
 *
 * - **Account on this address** (username + address): 5 failures in 15 minutes are free; after that
 *   each further attempt from that address for that account must wait 1 s, 2 s, 4 s … after the
 *   last failure, at most 60 s. A success clears it. This is what holds a single guesser back.
 * - **Address** (any username): 20 failures in 15 minutes are free, then the same backoff applies
 *   to every attempt from the address (at most 60 s). An address spraying many accounts — where no
 *   single account sees many failures — is slowed to about one guess a minute.
 * - **Account** (any address): no lockout at all. When an account has 20 failures in 15 minutes
 *   from anywhere it is "under attack", and each address gets only 1 free failure for it instead of
 *   5; an address that has not failed for it is still checked at once. So a botnet cannot lock the
 *   real user out, and the real user from a clean address logs in at once.
 *
 * A throttled attempt is answered 429 with Retry-After and its password is not checked (and it is
 * not counted: a client that honours Retry-After gets its turn). At worst — the real user behind
 * the very address that is guessing their password — a login waits up to 60 s, never 900 s.
 * Counters are in memory (a restart forgets them) and bounded.
 */

/** The policy above; every field can be overridden (tests use smaller numbers). */
export interface LoginThrottlePolicy {
  windowMs: number;
  /** free failures per (account, address) */
  pairFree: number;
  /** free failures per address over all accounts */
  addressFree: number;
  /** failures of one account from all addresses after which `pairFree` drops to 1 */
  accountUnderAttack: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_LOGIN_THROTTLE: Readonly<LoginThrottlePolicy> = Object.freeze({
  windowMs: 15 * 60 * 1000,
  pairFree: 5,
  addressFree: 20,
  accountUnderAttack: 20,
  baseDelayMs: 1000,
  maxDelayMs: 60 * 1000,
});

/**
 * Failure times per key in a sliding window, in memory. Bounded both ways: at most `maxKeys` keys
 * (the least recently failing go first, so a stream of made-up usernames cannot fill memory) and
 * at most `maxPerKey` times per key (beyond that the backoff is at its cap anyway).
 */
export class FailureLog {
  private readonly byKey = new Map<string, number[]>();

  constructor(
    private readonly windowMs: number,
    private readonly maxKeys = 10_000,
    private readonly maxPerKey = 64,
  ) {}

  /** The failures still in the window, oldest first. */
  recent(key: string, now: number): number[] {
    const list = this.byKey.get(key);
    if (!list) return [];
    const recent = list.filter((t) => t > now - this.windowMs);
    if (recent.length === 0) this.byKey.delete(key);
    else if (recent.length !== list.length) this.byKey.set(key, recent);
    return recent;
  }

  fail(key: string, now: number): void {
    const list = this.byKey.get(key) ?? [];
    list.push(now);
    if (list.length > this.maxPerKey) list.splice(0, list.length - this.maxPerKey);
    this.byKey.delete(key); // re-insert: Map order doubles as least-recently-failed first
    this.byKey.set(key, list);
    if (this.byKey.size > this.maxKeys) this.byKey.delete(this.byKey.keys().next().value!);
  }

  /** Takes back one failure recorded at `at` (an attempt that turned out to succeed). */
  forgive(key: string, at: number): void {
    const list = this.byKey.get(key);
    const i = list?.lastIndexOf(at) ?? -1;
    if (list && i >= 0) list.splice(i, 1);
  }

  clear(key: string): void {
    this.byKey.delete(key);
  }
}

/** ms to wait after `failures` (oldest first) with `free` of them free; 0 = go ahead. */
export function backoffMs(failures: readonly number[], free: number, now: number, p: Pick<LoginThrottlePolicy, 'baseDelayMs' | 'maxDelayMs'>): number {
  if (failures.length < free) return 0;
  const exponent = Math.min(failures.length - free, 30);
  const delay = Math.min(p.baseDelayMs * 2 ** exponent, p.maxDelayMs);
  return Math.max(0, failures[failures.length - 1]! + delay - now);
}

export class LoginThrottle {
  readonly policy: LoginThrottlePolicy;
  // one log per kind of key, so a flood of made-up usernames cannot push an address out
  private readonly pairs: FailureLog;
  private readonly addresses: FailureLog;
  private readonly accounts: FailureLog;

  constructor(policy: Partial<LoginThrottlePolicy> = {}) {
    this.policy = { ...DEFAULT_LOGIN_THROTTLE, ...policy };
    this.pairs = new FailureLog(this.policy.windowMs);
    this.addresses = new FailureLog(this.policy.windowMs);
    this.accounts = new FailureLog(this.policy.windowMs);
  }

  /** How long this attempt must wait before its password is checked; 0 = check it now. */
  waitMs(username: string, address: string, now: number): number {
    const account = username.toLowerCase();
    const p = this.policy;
    const underAttack = this.accounts.recent(account, now).length >= p.accountUnderAttack;
    return Math.max(
      backoffMs(this.pairs.recent(pairKey(account, address), now), underAttack ? Math.min(1, p.pairFree) : p.pairFree, now, p),
      backoffMs(this.addresses.recent(address, now), p.addressFree, now, p),
    );
  }

  /**
   * Counts the attempt as a failure before the slow password check, so a burst of parallel
   * guesses cannot all pass `waitMs` while the first ones are still hashing; `succeeded` takes it back.
   */
  begin(username: string, address: string, at: number): void {
    const account = username.toLowerCase();
    this.pairs.fail(pairKey(account, address), at);
    this.addresses.fail(address, at);
    this.accounts.fail(account, at);
  }

  succeeded(username: string, address: string, at: number): void {
    const account = username.toLowerCase();
    this.pairs.clear(pairKey(account, address));
    this.addresses.forgive(address, at);
    this.accounts.forgive(account, at);
  }
}

const pairKey = (account: string, address: string) => JSON.stringify([account, address]);
