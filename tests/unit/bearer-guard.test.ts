/**
 * BearerGuard (services/auth/bearer-guard.ts) with a resolver that waits, as the AuthService's does
 * once its store is asynchronous (PostgreSQL): a burst of parallel wrong tokens from one address is
 * counted as it arrives, not when each look-up returns, so the burst cannot get more guesses past
 * the limit than a sequence could; a token that works takes its provisional failure back.
 */
import { describe, expect, it } from 'vitest';
import { BearerGuard } from '../../services/auth/bearer-guard.js';
import { TooManyAttemptsError } from '../../services/auth/auth-service.js';

const GOOD = 'a-token-that-works';
/** answers after a macrotask, as a database round trip does */
const slowResolve = (token: string, opts: { admin: boolean }) =>
  new Promise<string | undefined>((resolve) => setTimeout(() => resolve(token === GOOD ? `principal (admin compared: ${opts.admin})` : undefined), 5));

const outcome = (p: Promise<unknown>) =>
  p.then(
    (v) => (v === undefined ? 401 : 200),
    (err: unknown) => (err instanceof TooManyAttemptsError ? 429 : 500),
  );

describe('BearerGuard with an asynchronous resolver', () => {
  it('a parallel burst of 30 wrong tokens gets 10 look-ups answered 401, the rest 429', async () => {
    const guard = new BearerGuard({ maxFailures: 10, windowMs: 60_000 });
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => outcome(guard.authenticate(`guess-${i}`, '10.0.0.9', slowResolve))));
    expect(answers.filter((a) => a === 401)).toHaveLength(10);
    expect(answers.filter((a) => a === 429)).toHaveLength(20);
  });

  it('good tokens in a parallel burst take their provisional failures back: the address is not throttled by them', async () => {
    const guard = new BearerGuard({ maxFailures: 10, windowMs: 60_000 });
    const good = await Promise.all(Array.from({ length: 8 }, () => outcome(guard.authenticate(GOOD, '10.0.0.7', slowResolve))));
    expect(good).toEqual(Array(8).fill(200));
    // only wrong tokens count: nine more still get a look-up, the tenth too, the eleventh is refused
    const wrong: number[] = [];
    for (let i = 0; i < 11; i++) wrong.push(await outcome(guard.authenticate(`guess-${i}`, '10.0.0.7', slowResolve)));
    expect(wrong).toEqual([...Array(10).fill(401), 429]);
    // and a token that works still works from the throttled address (it worked from there before,
    // so even the admin token would be compared)
    expect(await guard.authenticate(GOOD, '10.0.0.7', slowResolve)).toBe('principal (admin compared: true)');
  });

  it('a look-up that fails (the store is down) is no guess: its error comes out and nothing is counted', async () => {
    const guard = new BearerGuard({ maxFailures: 10, windowMs: 60_000 });
    const down = async () => {
      throw new Error('connection terminated');
    };
    for (let i = 0; i < 15; i++) await expect(guard.authenticate(GOOD, '10.0.0.5', down)).rejects.toThrow('connection terminated');
    // the address is not throttled by the outage: a wrong token is still a plain 401
    expect(await outcome(guard.authenticate('guess', '10.0.0.5', slowResolve))).toBe(401);
    expect(await outcome(guard.authenticate(GOOD, '10.0.0.5', slowResolve))).toBe(200);
  });
});
