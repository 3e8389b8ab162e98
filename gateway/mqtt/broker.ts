/**
 * The embedded MQTT broker (aedes 1.x: MQTT 3.1 and 3.1.1; an MQTT 5 CONNECT is answered with
 * CONNACK 0x01 "unacceptable protocol version"). Listens on TCP, and optionally on WebSocket and
 * TLS. Policy lives in hooks/; this file owns only the lifecycle.
 */
import { Aedes, type Client } from 'aedes';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { Logger } from 'pino';
import { WebSocketServer, createWebSocketStream } from 'ws';
import type { Config } from '../../services/config/config.js';
import type { DeviceStatusTracker } from '../../services/devices/device-status.js';
import type { DeviceRegistry } from '../../services/devices/registry.js';
import type { Metrics } from '../../services/metrics/metrics.js';
import type { Pipeline } from '../../services/pipeline/pipeline.js';
import { createAuthenticate } from './hooks/authenticate.js';
import { createAuthorizePublish } from './hooks/authorize-publish.js';
import { createAuthorizeSubscribe } from './hooks/authorize-subscribe.js';

export interface BrokerDeps {
  config: Config['mqtt'];
  registry: DeviceRegistry;
  status: DeviceStatusTracker;
  pipeline: Pipeline;
  metrics: Metrics;
  log: Logger;
  /** connection-level presence (feed events) and presence messages / last wills (offline rule) */
  onConnection?: (deviceId: string, connected: boolean) => void;
  onPresence?: (deviceId: string, online: boolean) => void;
}

export interface BrokerAddresses {
  mqtt: number;
  ws?: number;
  mqtts?: number;
}

function listen(server: Server | HttpServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

const closeServer = (s: Server | HttpServer) => new Promise<void>((resolve) => s.close(() => resolve()));

export class MqttBroker {
  private aedes: Aedes | undefined;
  private readonly servers: Array<Server | HttpServer> = [];
  private wss: WebSocketServer | undefined;
  private readonly identities = new WeakMap<Client, string>();
  private readonly clientsByDevice = new Map<string, Set<Client>>();
  ports: BrokerAddresses = { mqtt: 0 };

  constructor(private readonly deps: BrokerDeps) {}

  async start(): Promise<BrokerAddresses> {
    const { deps } = this;
    const log = deps.log;
    const aedes = await Aedes.createBroker({
      authenticate: createAuthenticate({ registry: deps.registry, metrics: deps.metrics, identities: this.identities }),
      authorizePublish: createAuthorizePublish({
        pipeline: deps.pipeline,
        identities: this.identities,
        ...(deps.onPresence ? { onPresence: deps.onPresence } : {}),
        onRetainStripped: () => deps.metrics.retainStripped.inc(),
      }),
      authorizeSubscribe: createAuthorizeSubscribe({ pipeline: deps.pipeline, identities: this.identities }),
      // devices never receive other devices' telemetry
      authorizeForward: (client, packet) => (packet.topic.startsWith('$SYS') && client ? null : packet),
    });
    this.aedes = aedes;

    aedes.on('client', (client) => {
      const id = this.identities.get(client);
      if (!id) return;
      let set = this.clientsByDevice.get(id);
      if (!set) this.clientsByDevice.set(id, (set = new Set()));
      set.add(client);
      deps.metrics.connections.inc();
      deps.status.connected(id);
      if (set.size === 1) deps.onConnection?.(id, true); // a device's second session is not news
    });
    aedes.on('clientDisconnect', (client) => {
      const id = this.identities.get(client);
      if (!id) return;
      deps.metrics.connections.dec();
      const set = this.clientsByDevice.get(id);
      set?.delete(client);
      if (!set || set.size === 0) {
        this.clientsByDevice.delete(id);
        deps.status.disconnected(id);
        deps.onConnection?.(id, false);
      }
    });
    // A client's error is the client's, never the broker's.
    aedes.on('clientError', (client, err) => log.debug({ clientId: client.id, err: err.message }, 'client error'));
    aedes.on('connectionError', (client, err) => log.debug({ err: err.message }, 'connection error'));

    const { config } = deps;
    const tcp = createServer(aedes.handle);
    this.servers.push(tcp);
    this.ports = { mqtt: await listen(tcp, config.port, config.host) };

    if (config.wsPort !== undefined) {
      const http = createHttpServer();
      this.wss = new WebSocketServer({ server: http });
      this.wss.on('connection', (socket, req) => aedes.handle(createWebSocketStream(socket), req));
      this.servers.push(http);
      this.ports.ws = await listen(http, config.wsPort, config.host);
    }
    if (config.tlsPort !== undefined && config.tlsCertFile && config.tlsKeyFile) {
      const tls = createTlsServer({ cert: readFileSync(config.tlsCertFile), key: readFileSync(config.tlsKeyFile) }, aedes.handle);
      this.servers.push(tls);
      this.ports.mqtts = await listen(tls, config.tlsPort, config.host);
    }
    log.info({ ports: this.ports }, 'MQTT broker listening');
    return this.ports;
  }

  /** Close every session of a device (its credentials rotated, or it was deleted). */
  disconnectDevice(deviceId: string): void {
    for (const c of this.clientsByDevice.get(deviceId) ?? []) c.close();
  }

  connectedCount(): number {
    return this.aedes?.connectedClients ?? 0;
  }

  async close(): Promise<void> {
    this.wss?.close();
    const servers = this.servers.splice(0);
    const closing = servers.map(closeServer);
    const aedes = this.aedes;
    if (aedes) await new Promise<void>((resolve) => aedes.close(() => resolve()));
    await Promise.all(closing);
  }
}
