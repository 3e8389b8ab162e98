/**
 * The embedded MQTT broker (aedes 1.x: MQTT 3.1 and 3.1.1; an MQTT 5 CONNECT is answered with
 * CONNACK 0x01 "unacceptable protocol version"). Listens on TCP, and optionally on WebSocket and
 * TLS. Policy lives in hooks/; this file owns only the lifecycle. Every connection, whichever the
 * listener, passes packet-guard.ts first (packet size limits before aedes buffers anything).
 */
import { Aedes, type Client } from 'aedes';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server } from 'node:net';
import type { Duplex } from 'node:stream';
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
import { guardStream, type PacketGuard, type PacketLimits } from './packet-guard.js';

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

/**
 * Pending connections the kernel queues per listener (capped by net.core.somaxconn). Node's 511
 * drops SYNs when a whole fleet reconnects at once, and each dropped device waits out TCP's
 * retransmission backoff (1, 3, 7, 15 s …) before it is even accepted.
 */
const LISTEN_BACKLOG = 4096;

function listen(server: Server | HttpServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, backlog: LISTEN_BACKLOG }, () => {
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
  private readonly guards = new WeakMap<object, PacketGuard>();
  /** set by close(): disconnections and wills from here on are the shutdown's, not the devices' */
  private closing = false;
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
        // The broker's own shutdown is not a device going offline: aedes publishes every client's
        // last will as it closes the connections, and those must not raise device_offline.
        ...(deps.onPresence ? { onPresence: (id: string, online: boolean) => (this.closing ? undefined : deps.onPresence!(id, online)) } : {}),
        onRetainStripped: () => deps.metrics.retainStripped.inc(),
      }),
      authorizeSubscribe: createAuthorizeSubscribe({ pipeline: deps.pipeline, identities: this.identities }),
      // devices never receive other devices' telemetry
      authorizeForward: (client, packet) => (packet.topic.startsWith('$SYS') && client ? null : packet),
    });
    this.aedes = aedes;

    aedes.on('client', (client) => {
      this.guards.get(client.conn)?.authenticated();
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
        if (!this.closing) deps.onConnection?.(id, false);
      }
    });
    // A client's error is the client's, never the broker's.
    aedes.on('clientError', (client, err) => log.debug({ clientId: client.id, err: err.message }, 'client error'));
    aedes.on('connectionError', (client, err) => log.debug({ err: err.message }, 'connection error'));

    const { config } = deps;
    const limits: PacketLimits = { controlBytes: config.maxConnectBytes, publishBytes: config.maxPublishBytes };
    const tooLarge = (state: string) => deps.metrics.packetsTooLarge.inc({ state });
    const guarded = <S extends Duplex>(stream: S): S => {
      this.guards.set(stream, guardStream(stream, limits, tooLarge));
      return stream;
    };
    const tcp = createServer((socket) => aedes.handle(guarded(socket)));
    this.servers.push(tcp);
    this.ports = { mqtt: await listen(tcp, config.port, config.host) };

    if (config.wsPort !== undefined) {
      const http = createHttpServer();
      // ws buffers a whole message before the stream sees it: no message may exceed the largest packet
      this.wss = new WebSocketServer({ server: http, maxPayload: Math.max(limits.publishBytes, limits.controlBytes) + 5 });
      this.wss.on('connection', (socket, req) => {
        const stream = guarded(createWebSocketStream(socket));
        socket.on('error', (err: Error & { code?: string }) => {
          if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') tooLarge(this.guards.get(stream)?.state ?? 'unauthenticated');
        });
        aedes.handle(stream, req);
      });
      this.servers.push(http);
      this.ports.ws = await listen(http, config.wsPort, config.host);
    }
    if (config.tlsPort !== undefined && config.tlsCertFile && config.tlsKeyFile) {
      const tls = createTlsServer({ cert: readFileSync(config.tlsCertFile), key: readFileSync(config.tlsKeyFile) }, (socket) =>
        aedes.handle(guarded(socket)),
      );
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
    this.closing = true;
    this.wss?.close();
    const servers = this.servers.splice(0);
    const closing = servers.map(closeServer);
    const aedes = this.aedes;
    if (aedes) await new Promise<void>((resolve) => aedes.close(() => resolve()));
    await Promise.all(closing);
  }
}
