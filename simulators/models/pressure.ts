/**
 * Fire-water pressure at one point (消防水压). A pressurised system holds its static pressure with
 * a jockey pump (稳压泵): the pressure decays slowly through small losses, and when it reaches the
 * pump's start pressure the jockey pump runs and brings it back quickly to its stop pressure.
 * Incidents change the physics:
 *   leak       losses several times higher: a falling trend and more frequent jockey starts
 *   burst      a burst pipe or an opened valve: a fast drop to what the open pipe holds
 *   fire_pump  the main fire pump starts: a quick rise to its duty pressure
 *   closed     a closed valve or an empty tank: pressure near 0
 *   normal     back to the static pressure (repaired)
 * Figures per point come from the rules' thresholds (docs/standards.md §3) so a healthy system sits
 * clearly above them; the jockey band stays under the 0.05 MPa pressure_drop setting.
 */
import type { Prng} from '../prng.js';
import { round } from '../prng.js';
import { STEP_S, type SensorModel, type TelemetryFields } from './model.js';

export type PressureMode = 'normal' | 'leak' | 'burst' | 'fire_pump' | 'closed';

export interface PressureOptions {
  staticMpa: number;
  noiseMpa?: number;
  /** jockey pump starts this far below the static (stop) pressure */
  jockeyBandMpa?: number;
  /** natural losses, MPa per minute */
  decayMpaPerMin?: number;
  /** jockey pump rise, MPa per second */
  jockeyRiseMpaPerS?: number;
  /** where a burst settles */
  burstMpa?: number;
  /** the fire pump's duty pressure at this point */
  firePumpMpa?: number;
}

const LEAK_FACTOR = 8;

export class PressureModel implements SensorModel {
  readonly kind = 'water_pressure' as const;
  private p: number;
  private t = 0;
  private jockeyOn = false;
  private mode: PressureMode = 'normal';
  private readonly o: Required<PressureOptions>;
  /** jockey pump starts so far (a leak shows as more of them) */
  jockeyStarts = 0;

  constructor(
    opts: PressureOptions,
    private readonly rng: Prng,
  ) {
    this.o = {
      noiseMpa: 0.002,
      jockeyBandMpa: 0.025,
      decayMpaPerMin: 0.0012,
      jockeyRiseMpaPerS: 0.004,
      burstMpa: Math.max(0.02, opts.staticMpa * 0.12),
      firePumpMpa: opts.staticMpa + 0.12,
      ...opts,
    };
    // start somewhere in the jockey band, as a real system would be found
    this.p = this.o.staticMpa - rng.uniform(0, this.o.jockeyBandMpa);
  }

  setMode(mode: PressureMode): void {
    this.mode = mode;
  }

  getMode(): PressureMode {
    return this.mode;
  }

  private approach(target: number, tauS: number): void {
    this.p += (target - this.p) * (1 - Math.exp(-STEP_S / tauS));
  }

  private step(): void {
    const o = this.o;
    switch (this.mode) {
      case 'burst':
        return this.approach(o.burstMpa, 4);
      case 'fire_pump':
        return this.approach(o.firePumpMpa, 5);
      case 'closed':
        return this.approach(0.004, 6);
      case 'normal':
      case 'leak': {
        const decay = (o.decayMpaPerMin / 60) * (this.mode === 'leak' ? LEAK_FACTOR : 1);
        if (this.p > o.staticMpa + 0.005) return this.approach(o.staticMpa, 20); // after a pump run
        if (!this.jockeyOn && this.p <= o.staticMpa - o.jockeyBandMpa) {
          this.jockeyOn = true;
          this.jockeyStarts++;
        }
        if (this.p < o.staticMpa - 3 * o.jockeyBandMpa) return this.approach(o.staticMpa, 30); // recovering
        if (this.jockeyOn) {
          this.p += o.jockeyRiseMpaPerS * STEP_S;
          if (this.p >= o.staticMpa) {
            this.p = o.staticMpa;
            this.jockeyOn = false;
          }
        } else this.p -= decay * STEP_S;
      }
    }
  }

  sample(t: number): TelemetryFields {
    while (this.t + STEP_S <= t) {
      this.step();
      this.t += STEP_S;
    }
    return { pressureMpa: round(Math.max(-0.1, this.p + this.rng.normal(0, this.o.noiseMpa)), 3) };
  }
}
