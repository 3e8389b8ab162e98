/**
 * Fire-lane occupancy (消防车道/生命通道). Vehicles arrive as a Poisson process (busier by day);
 * most stop briefly (a delivery, a drop-off: must not alert), a few park for a long time (must
 * alert after the lane's dwell time, fact 55). Only arrivals draw randomness, so the trajectory
 * is the same however often the runner looks (peek) between reports.
 */
import type { Prng } from '../prng.js';
import { hourOfDay, type SensorModel, type TelemetryFields } from './model.js';

export interface LaneOptions {
  /** arrivals per hour by day (07–22) and by night */
  dayPerH?: number;
  nightPerH?: number;
  /** share of arrivals that park for long */
  parkShare?: number;
  startHour?: number;
  /** no random traffic: only scripted stops (incident scenarios) */
  scriptedOnly?: boolean;
}

export class LaneModel implements SensorModel {
  readonly kind = 'fire_lane' as const;
  private occupiedUntil = -1;
  private nextArrival: number;
  private readonly o: Required<LaneOptions>;
  private readonly scripted: { from: number; to: number }[] = [];
  /** vehicles seen so far, by kind */
  readonly counts = { stops: 0, parked: 0 };

  constructor(
    opts: LaneOptions,
    private readonly rng: Prng,
  ) {
    this.o = { dayPerH: 4, nightPerH: 1, parkShare: 0.08, startHour: 8, scriptedOnly: false, ...opts };
    this.nextArrival = this.o.scriptedOnly ? Infinity : this.interArrival(0);
  }

  private interArrival(t: number): number {
    const h = hourOfDay(t, this.o.startHour);
    const perH = h >= 7 && h < 22 ? this.o.dayPerH : this.o.nightPerH;
    return t + this.rng.exponential(3600 / perH);
  }

  /** a scripted vehicle occupies the lane from `from` for `durationS` */
  occupy(from: number, durationS: number): void {
    this.scripted.push({ from, to: from + durationS });
  }

  private advance(t: number): void {
    while (this.nextArrival <= t) {
      const at = this.nextArrival;
      if (at >= this.occupiedUntil) {
        const park = this.rng.chance(this.o.parkShare);
        const dwell = park ? this.rng.uniform(15 * 60, 90 * 60) : this.rng.uniform(20, 150);
        this.occupiedUntil = at + dwell;
        if (park) this.counts.parked++;
        else this.counts.stops++;
      }
      this.nextArrival = this.interArrival(at);
    }
  }

  peek(t: number): TelemetryFields {
    this.advance(t);
    const scripted = this.scripted.some((s) => t >= s.from && t < s.to);
    return { occupied: scripted || t < this.occupiedUntil };
  }

  sample(t: number): TelemetryFields {
    return this.peek(t);
  }
}
