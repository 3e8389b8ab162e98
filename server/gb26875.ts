/**
 * The GB/T 26875.3 gateway for user information transmission devices (UITDs, issue #6): decoded
 * frames enter the same pipeline as MQTT messages; presence goes to the same live feed.
 */
import type { Logger } from 'pino';
import { Gb26875Listener, type ComponentStates } from '../gateway/gb26875/listener.js';
import { loadVendorMapping } from '../gateway/gb26875/vendor-mapping.js';
import type { Config } from '../services/config/config.js';
import type { DeviceStatusTracker } from '../services/devices/device-status.js';
import type { DeviceRegistry } from '../services/devices/registry.js';
import type { Metrics } from '../services/metrics/metrics.js';
import type { Pipeline } from '../services/pipeline/pipeline.js';
import type { Gb26875TestStore } from '../services/devices/gb26875-points.js';
import type { Clock } from '../services/shared/clock.js';
import type { OutageReporter } from '../services/shared/outage.js';
import type { SyncSettingsStore } from '../services/shared/settings.js';
import { Gb26875CentreCommands } from '../gateway/gb26875/centre-commands.js';
import { UitdDutyRounds } from '../gateway/gb26875/duty-rounds.js';
import type { Lifecycle } from './lifecycle.js';

const GB26875_COMPONENTS_KEY = 'gb26875_components';

export interface GatewayDeps {
  config: Config['gb26875'] & { port: number; rejectLogIntervalS: number };
  life: Lifecycle;
  registry: DeviceRegistry;
  status: DeviceStatusTracker;
  pipeline: Pipeline;
  settings: SyncSettingsStore;
  /** where test-mode alarms are recorded (the storage's gb26875Tests; awaited, so either engine's) */
  testAlarms: Gb26875TestStore;
  metrics: Metrics;
  /** storage failures as values: counted, logged once per interval, on /readyz */
  outages: OutageReporter;
  clock: Clock;
  log: Logger;
  publishPresence(deviceId: string, connected: boolean): void;
  onPresence(deviceId: string, online: boolean): void;
}

export async function startGb26875Gateway(d: GatewayDeps): Promise<{ listener: Gb26875Listener; commands: Gb26875CentreCommands; rounds: UitdDutyRounds; port: number }> {
  const { config, registry, status, settings } = d;
  // the duty rounds need the listener's commands; the listener tells them of answers: bound once both exist
  const late: { rounds?: UitdDutyRounds } = {};
  const listener = new Gb26875Listener({
    host: config.host,
    port: config.port,
    deviceByAddress: (address) => registry.deviceByAddress(address),
    ingest: (m) => d.pipeline.ingest(m),
    onConnection: (deviceId, connected) => {
      if (connected) status.connected(deviceId);
      else status.disconnected(deviceId);
      d.publishPresence(deviceId, connected);
    },
    onSeen: (deviceId) => {
      status.accepted(deviceId, undefined, 0);
      d.onPresence(deviceId, true);
    },
    metrics: d.metrics,
    log: d.log,
    clock: d.clock,
    componentState: {
      load: () => JSON.parse(settings.get(GB26875_COMPONENTS_KEY) ?? '{}') as ComponentStates,
      save: (states) => settings.set(GB26875_COMPONENTS_KEY, JSON.stringify(states)),
    },
    // issue #16 item 7: test-mode alarms recorded as tests; analog pressure bound to water_pressure devices
    testAlarms: d.testAlarms,
    boundDevice: (uitd, ref) => registry.deviceByGb26875Source(uitd.id, ref),
    ...(config.vendorMappingFile !== undefined ? { vendorMapping: loadVendorMapping(config.vendorMappingFile) } : {}),
    // protection (issue #12 item 7): caps, idle timeout, peer allow-lists
    idleTimeoutMs: config.idleTimeoutS * 1000,
    offsetMinutes: config.offsetMinutes,
    onDutyCheckAnswered: (deviceId, at) => late.rounds?.answered(deviceId, at),
    maxConnections: config.maxConnections,
    ...(config.maxConnectionsPerPeer !== undefined ? { maxConnectionsPerPeer: config.maxConnectionsPerPeer } : {}),
    ...(config.allow !== undefined ? { defaultAllowedPeers: config.allow } : {}),
    refusalLogIntervalMs: config.rejectLogIntervalS * 1000,
  });
  registry.onChange((e) => {
    if (e.type === 'device.removed') listener.forget(e.deviceId);
  });
  const port = await d.life.start('GB/T 26875.3 gateway', () => listener.start(), () => listener.close());
  if (config.allow === undefined) {
    const open = [...registry.devices()].filter((dev) => dev.kind === 'uitd' && !dev.allowedPeers?.length).map((dev) => dev.id);
    if (open.length > 0) {
      d.log.warn(
        { devices: open.slice(0, 20), count: open.length },
        'UITDs without allowedPeers accept frames from any peer (GB/T 26875.3 has no authentication): set allowedPeers or GB26875_ALLOW',
      );
    }
  }
  // the duty room's commands to its UITDs (issue #14): 3 tries of GB26875_COMMAND_TIMEOUT_MS (fact 4)
  const commands = new Gb26875CentreCommands({ listener, clock: d.clock, timeoutMs: config.commandTimeoutMs, tries: 3, offsetMinutes: config.offsetMinutes, log: d.log });
  // the district's daily duty check of its UITDs, and the report of who answered (issue #14)
  const dutyRounds = new UitdDutyRounds({
    commands,
    uitds: () => [...registry.devices()].filter((dev) => dev.kind === 'uitd' && !registry.isCommissioning(dev)),
    settings,
    clock: d.clock,
    windowS: config.dutyCheckS,
    dailyAtMin: config.dutyRoundAtMin,
    offsetMinutes: config.offsetMinutes,
    outages: d.outages,
    log: d.log,
  });
  await d.life.start('GB/T 26875.3 duty rounds', () => dutyRounds.start(), () => dutyRounds.close());
  late.rounds = dutyRounds;
  return { listener, commands, rounds: dutyRounds, port };
}
