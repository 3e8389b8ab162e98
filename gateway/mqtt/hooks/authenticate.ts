/**
 * CONNECT: username = device id, password = the device secret. Wrong credentials get CONNACK
 * return code 4 (bad user name or password, MQTT 3.1.1 §3.2.2.3). An address that keeps failing
 * is slowed: from the 3rd failure within 10 minutes every answer to it waits 0.25 s, doubling up
 * to 8 s, so guessing secrets over one address is impractical.
 *
 * A check costs microseconds (device secrets are stored as SHA-256 digests, ADR 0007), except for
 * a legacy scrypt hash (~50 ms of CPU): that runs only within SlowCheckBudget (a global cap on
 * concurrent checks and a per-address budget of failures); when spent, the CONNECT is refused at
 * once with CONNACK 3 "server unavailable" (counted as `auth_busy` / `auth_rate_limited`).
 *
 * The client identifier is checked once the device is known (CONNACK 2, "identifier rejected",
 * MQTT 3.1.1 §3.2.2.3): a device may not use another registered device's id, nor an id whose
 * session another device holds now — either would take over that device's session (aedes closes
 * the older connection of a client id, and its last will then reports the victim offline). An empty
 * client id with CleanSession 0 is refused as MQTT-3.1.3-8 requires (aedes gives it a random id).
 */
import type { AuthenticateError, Client } from 'aedes';
import type { DeviceRegistry } from '../../../services/devices/registry.js';
import type { Metrics } from '../../../services/metrics/metrics.js';
import { DEFAULT_SLOW_CHECK_LIMITS, SlowCheckBudget, type SlowCheckLimits, type SlowCheckRefusal } from './slow-check-budget.js';

export interface AuthenticateDeps {
  registry: DeviceRegistry;
  metrics: Metrics;
  /** the authenticated device id per client */
  identities: WeakMap<Client, string>;
  now?: () => number;
  /** budget of slow (legacy scrypt) checks; defaults in slow-check-budget.ts */
  slowChecks?: Partial<SlowCheckLimits>;
}

const WINDOW_MS = 10 * 60_000;
const FREE_FAILURES = 2;

/** aedes' stand-in for an empty client id (lib/handlers/connect.js: 'aedes_' + randomUUID()) */
const GENERATED_ID = /^aedes_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Failure records of this many addresses at most before stale ones are swept. */
const SWEEP_AT = 4096;

function refusal(code: 2 | 3 | 4 | 5, message: string): AuthenticateError {
  const err = new Error(message) as AuthenticateError;
  (err as { returnCode: number }).returnCode = code;
  return err;
}

export function remoteAddress(client: Client): string {
  const conn = client.conn as { remoteAddress?: string };
  return client.req?.socket?.remoteAddress ?? conn.remoteAddress ?? 'unknown';
}

export function createAuthenticate(deps: AuthenticateDeps) {
  const now = deps.now ?? Date.now;
  const failures = new Map<string, { count: number; first: number }>();
  const budget = new SlowCheckBudget({ ...DEFAULT_SLOW_CHECK_LIMITS, ...deps.slowChecks }, now);
  const sweepFailures = () => {
    const t = now();
    for (const [addr, f] of failures) if (t - f.first > WINDOW_MS) failures.delete(addr);
  };

  const penaltyMs = (addr: string): number => {
    const f = failures.get(addr);
    if (!f) return 0;
    if (now() - f.first > WINDOW_MS) {
      failures.delete(addr);
      return 0;
    }
    return f.count <= FREE_FAILURES ? 0 : Math.min(8000, 250 * 2 ** (f.count - FREE_FAILURES - 1));
  };

  const identifierProblem = (client: Client, deviceId: string): string | undefined => {
    const id = client.id;
    if (GENERATED_ID.test(id) && !client.clean) return 'an empty client identifier requires CleanSession 1 (MQTT-3.1.3-8)';
    if (id !== deviceId && deps.registry.context(id)) return `client identifier ${id} belongs to another device`;
    const holder = (client as unknown as { broker: { clients: Record<string, Client | undefined> } }).broker.clients[id];
    const holderDevice = holder ? deps.identities.get(holder) : undefined;
    if (holderDevice !== undefined && holderDevice !== deviceId) return `client identifier ${id} is in use by another device`;
    return undefined;
  };

  return function authenticate(
    client: Client,
    username: Readonly<string | undefined>,
    password: Readonly<Buffer | undefined>,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ): void {
    const addr = remoteAddress(client);
    const delay = penaltyMs(addr);
    const answer = (err: AuthenticateError | null, ok: boolean) => {
      if (delay > 0) setTimeout(() => done(err, ok), delay).unref();
      else done(err, ok);
    };
    if (!username || !password || password.length === 0) {
      deps.metrics.connectRefused.inc({ reason: 'no_credentials' });
      answer(refusal(4, 'username and password are required'), false);
      return;
    }
    let refusedBy: SlowCheckRefusal | undefined;
    const gate = () => {
      const admitted = budget.acquire(addr);
      if (typeof admitted === 'string') {
        refusedBy = admitted;
        return undefined;
      }
      return (ok: boolean) => {
        admitted(ok);
        deps.metrics.slowAuthChecks.inc({ result: ok ? 'ok' : 'bad' });
      };
    };
    deps.registry.checkDevice(username, password.toString('utf8'), gate).then(
      (result) => {
        if (result === 'busy') {
          // nothing was learnt about the secret: answer now, without the failure penalty
          deps.metrics.connectRefused.inc({ reason: refusedBy === 'address' ? 'auth_rate_limited' : 'auth_busy' });
          done(refusal(3, 'server unavailable: too many slow credential checks, retry later'), false);
          return;
        }
        if (result === 'ok') {
          failures.delete(addr);
          const refused = identifierProblem(client, username);
          if (refused) {
            deps.metrics.connectRefused.inc({ reason: 'identifier_rejected' });
            answer(refusal(2, refused), false);
            return;
          }
          deps.identities.set(client, username);
          answer(null, true);
          return;
        }
        const f = failures.get(addr);
        if (f && now() - f.first <= WINDOW_MS) f.count++;
        else {
          if (failures.size >= SWEEP_AT) sweepFailures();
          failures.set(addr, { count: 1, first: now() });
        }
        deps.metrics.connectRefused.inc({ reason: 'bad_credentials' });
        answer(refusal(4, 'bad user name or password'), false);
      },
      // the credential could not be looked up (the database is down): nothing was learnt about the
      // secret, so CONNACK 3 "server unavailable" — the device retries — never 4 or 5, which say
      // its credentials are wrong and make a device stop trying
      () => {
        deps.metrics.connectRefused.inc({ reason: 'store_unavailable' });
        done(refusal(3, 'server unavailable: the credential store does not answer, retry later'), false);
      },
    );
  };
}
