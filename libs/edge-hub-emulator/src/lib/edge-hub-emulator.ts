import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server as TlsServer } from 'node:tls';
import type { Aedes, Client } from 'aedes';
import pino, { type Logger } from 'pino';
import { createAedesBroker } from './aedes';
import { loadOrCreateCertificates, type EdgeCertificates } from './certificates';
import { DirectMethods, type MethodResult } from './direct-methods';
import { loadOrCreateModuleIdentities, type ModuleCredentials } from './module-identities';
import { contentOf, formatPropertySegment, messageSize, parsePropertySegment } from './message-properties';
import { parseRoutes, routedMessage, sinksFor, type Route } from './routes';
import { hmacSha256, moduleResource, newModuleKey, sasTokenExpiryMs, sasTokenProblem } from './sas';
import {
  allowedSubscriptions,
  DESIRED_TOPIC,
  desiredPatchTopic,
  inputTopic,
  METHODS_TOPIC,
  publicationOf,
  subscribed,
  subscriptionFilter,
  type ModuleSubscription,
} from './topics';
import { assertJsonObject, ModuleTwin, type JsonObject } from './twin';
import { applyReportedPatch, twinGetReply } from './twin-requests';
import { waitForEvent } from './wait-for-event';
import { startWorkloadApi, type WorkloadApi } from './workload-api';

/** A kind of twin request, for garbleTwinAnswers and ignoreTwinRequests. */
export type TwinRequestKind = 'twin GET' | 'reported update';

export interface EmulatedModule {
  id: string;
  /** The module twin's desired properties at start (the deployment's `modulesContent.<id>.properties.desired`). */
  desired?: Record<string, unknown>;
}

export interface EdgeHubEmulatorOptions {
  deviceId?: string;
  iothubHostName?: string;
  /** MQTT over TLS; 0 (the default) picks a free port. edgeHub's is 8883. */
  port?: number;
  /** The workload API over HTTP; 0 (the default) picks a free port. */
  workloadPort?: number;
  /** Also serve the workload API on this unix socket; moduleEnv then points IOTEDGE_WORKLOADURI at it. */
  workloadSocket?: string;
  /** Interface both listen on. */
  host?: string;
  /**
   * Where the CA and each module's key and generation id are kept across restarts (so modules still running
   * reconnect to a restarted emulator); default a fresh temp dir, removed by stop().
   */
  stateDir?: string;
  modules: EmulatedModule[];
  /** The deployment's `$edgeHub` routes, by name. */
  routes?: Record<string, string>;
  /** How long invokeMethod waits for the module's answer before a 504; IoT Hub's default is 30 s. */
  methodTimeoutMs?: number;
  /** Structured logs (connections, rejections, twin and method traffic); silent by default. */
  logger?: Logger;
  /** How many of the latest upstream messages upstreamMessages() keeps (default 10,000); older ones are dropped. */
  keepUpstream?: number;
}

/** edgeHub's (and IoT Hub's) limit for a message, body and properties together: 256 KB. */
export const MAX_MESSAGE_BYTES = 256 * 1024;
/** How often connected clients' SAS tokens are checked for expiry. */
const TOKEN_SWEEP_MS = 1000;

export interface UpstreamMessage {
  moduleId: string;
  /** The output it was sent on (`sendOutputEvent`); undefined for `sendEvent`. */
  outputName?: string;
  body: Buffer;
  contentType?: string;
  contentEncoding?: string;
  /** Application properties. */
  properties: Record<string, string>;
  /** System properties by wire name (`$.on`, `$.ct`, `$.ce`, `$.mid`, `$.cid`, ...). */
  systemProperties: Record<string, string>;
  receivedAt: number;
}

interface ModuleIdentity extends ModuleCredentials {
  twin: ModuleTwin;
}

/**
 * Emits to each listener on its own: a listener that throws is logged, and neither keeps the others from the event
 * nor fails what emitted it (a module's publish, which would otherwise be refused after it was taken).
 */
function emitToEach(emitter: EventEmitter, log: Logger, event: string, ...args: unknown[]): void {
  for (const listener of emitter.rawListeners(event)) {
    try {
      (listener as (...a: unknown[]) => void).apply(emitter, args);
    } catch (err) {
      log.error({ err, event }, `a listener for '${event}' threw: ${(err as Error).message}`);
    }
  }
}

/**
 * IoT Edge's edgeHub and workload API, in-process, for running modules and their tests on one machine: modules
 * connect with the real SDK (MQTT over TLS, SAS tokens signed by the workload API) and get routing between
 * outputs and inputs, module twins and direct methods. Upstream (IoT Hub-bound) messages are collected here.
 */
export class EdgeHubEmulator {
  readonly deviceId: string;
  readonly iothubHostName: string;
  readonly host: string;
  /** Messages routed to `$upstream`, as an 'message' event each. */
  readonly upstream = new EventEmitter();
  /**
   * 'connected' / 'disconnected' (moduleId), 'subscribed' (moduleId), 'rejected' (clientId, reason),
   * 'reported' / 'desired' (moduleId, patch, version).
   */
  readonly events = new EventEmitter();
  readonly caPem: string;
  readonly methodTimeoutMs: number;

  private readonly log: Logger;
  private readonly modules = new Map<string, ModuleIdentity>();
  private readonly upstreamLog: UpstreamMessage[] = [];
  private readonly keepUpstream: number;
  private upstreamCount = 0;
  private readonly clients = new Map<string, Client>();
  /** When each connection's SAS token expires (ms); edgeHub drops a connection whose token has expired. */
  private readonly tokenExpiry = new WeakMap<Client, number>();
  private tokenSweep: NodeJS.Timeout | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly methods: DirectMethods;
  private readonly unroutedWarned = new Set<string>();
  private broker!: Aedes;
  private server: TlsServer | undefined;
  private workload!: WorkloadApi;
  private listenPort: number;
  private stopped = false;
  private readonly twinRequestsIgnored = new Set<TwinRequestKind>();
  private twinAnswersGarbled?: { body: string; to: TwinRequestKind };

  private constructor(
    private readonly options: EdgeHubEmulatorOptions,
    private readonly routes: Route[],
    private readonly stateDir: string,
    private readonly ownsStateDir: boolean,
    private readonly certificates: EdgeCertificates,
    credentials: Map<string, ModuleCredentials>,
  ) {
    this.deviceId = options.deviceId ?? 'sim-device';
    this.iothubHostName = options.iothubHostName ?? 'sim-hub.azure-devices.net';
    this.host = options.host ?? '127.0.0.1';
    this.listenPort = options.port ?? 0;
    this.methodTimeoutMs = options.methodTimeoutMs ?? 30_000;
    this.log = options.logger ?? pino({ level: 'silent' });
    this.keepUpstream = options.keepUpstream ?? 10_000;
    this.caPem = certificates.caPem;
    this.methods = new DirectMethods(this.log);
    for (const module of options.modules) {
      this.modules.set(module.id, { ...(credentials.get(module.id) as ModuleCredentials), twin: new ModuleTwin(module.desired ?? {}) });
    }
  }

  static async start(options: EdgeHubEmulatorOptions): Promise<EdgeHubEmulator> {
    // A deployment that cannot work fails before anything is generated or listens.
    const ids = options.modules.map((module) => module.id);
    const duplicate = ids.find((id, index) => ids.indexOf(id) !== index);
    if (duplicate) throw new Error(`module "${duplicate}" is listed twice`);
    for (const module of options.modules) {
      if (module.desired !== undefined) assertJsonObject(module.desired, `module "${module.id}" desired properties`);
    }
    const routes = parseRoutes(options.routes ?? {}, ids);
    const ownsStateDir = options.stateDir === undefined;
    const stateDir = options.stateDir ?? mkdtempSync(join(tmpdir(), 'edge-hub-emulator-'));
    const host = options.host ?? '127.0.0.1';
    const certificates = loadOrCreateCertificates(stateDir, [...new Set(['localhost', '127.0.0.1', host, hostname()])], options.logger);
    const credentials = loadOrCreateModuleIdentities(stateDir, ids, options.logger);
    const hub = new EdgeHubEmulator(options, routes, stateDir, ownsStateDir, certificates, credentials);
    try {
      await hub.init();
    } catch (err) {
      await hub.stop();
      throw err;
    }
    return hub;
  }

  private async init(): Promise<void> {
    for (const route of this.routes.filter((r) => r.neverMatches)) this.log.warn({ route: route.name }, `route ${route.name} never fires: ${route.neverMatches}`);
    this.broker = await createAedesBroker({
      id: 'edgeHub',
      // clientIds are `<device>/<module>`, longer than the 23 characters MQTT guarantees.
      maxClientsIdLength: 256,
      authenticate: (client, username, password, done) => {
        const token = password?.toString('utf8');
        const problem = this.authenticationProblem(client.id, username, token);
        if (!problem) {
          this.tokenExpiry.set(client, sasTokenExpiryMs(token as string) as number);
          return done(null, true);
        }
        this.log.warn({ clientId: client.id }, `rejected ${client.id}: ${problem}`);
        this.events.emit('rejected', client.id, problem);
        // CONNACK return code 5, "not authorized", as IoT Hub answers a bad token.
        done(Object.assign(new Error(problem), { returnCode: 5 as const }), false);
      },
      authorizeSubscribe: (client, subscription, done) => {
        const moduleId = this.moduleOf(client);
        if (allowedSubscriptions(this.deviceId, moduleId).includes(subscription.topic)) return done(null, subscription);
        this.log.warn({ moduleId, topic: subscription.topic }, `${moduleId} may not subscribe to ${subscription.topic}`);
        done(null, null); // SUBACK failure for this topic, as IoT Hub gives
      },
      authorizePublish: (client, packet, done) => {
        if (!client) return done(null);
        try {
          this.onPublish(this.moduleOf(client), client, packet.topic, Buffer.from(packet.payload));
          done(null);
        } catch (err) {
          this.log.warn({ clientId: client.id, topic: packet.topic }, (err as Error).message);
          done(err as Error); // IoT Hub drops a connection that publishes where it may not
        }
      },
    });
    this.broker.on('clientReady', (client) => {
      const moduleId = this.moduleOf(client);
      this.clients.set(moduleId, client);
      this.log.info({ moduleId }, `${moduleId} connected`);
      this.events.emit('connected', moduleId);
    });
    this.broker.on('clientDisconnect', (client) => {
      const moduleId = this.moduleOf(client);
      if (this.clients.get(moduleId) !== client) return; // replaced by a newer connection of the same module
      this.clients.delete(moduleId);
      this.log.info({ moduleId }, `${moduleId} disconnected`);
      this.events.emit('disconnected', moduleId);
    });
    this.broker.on('subscribe', (_subscriptions, client) => this.events.emit('subscribed', this.moduleOf(client)));
    this.broker.on('clientError', (client, err) => this.log.debug({ clientId: client.id, err }, `connection of ${client.id} failed`));
    this.tokenSweep = setInterval(() => this.dropExpiredConnections(), TOKEN_SWEEP_MS).unref();

    await this.startBroker();
    this.workload = await startWorkloadApi({
      host: this.host,
      port: this.options.workloadPort ?? 0,
      socketPath: this.options.workloadSocket,
      trustBundle: () => this.caPem,
      sign: (moduleId, generationId, keyId, data) => {
        const module = this.modules.get(moduleId);
        if (!module) return { status: 404, message: `Module not found: ${moduleId} is not in the deployment (modules: ${[...this.modules.keys()].join(', ')})` };
        if (module.generationId !== generationId) return { status: 404, message: `Module not found: ${moduleId} has generation ${module.generationId}, not ${generationId}` };
        if (keyId !== 'primary') return { status: 400, message: `unknown keyId ${keyId}; the simulator has only "primary"` };
        return { digest: hmacSha256(module.key, data) };
      },
    });
  }

  /** The port modules connect to (MQTT over TLS). */
  get port(): number {
    return this.listenPort;
  }

  get workloadPort(): number {
    return this.workload.port;
  }

  get workloadUri(): string {
    return this.workload.socketPath ? `unix://${this.workload.socketPath}` : `http://${this.host}:${this.workload.port}/`;
  }

  /** `host:port` as modules dial it: the SDK connects to mqtts://<GatewayHostName>, a port in it included. */
  get gatewayHostName(): string {
    return `${this.host}:${this.listenPort}`;
  }

  private identity(moduleId: string): ModuleIdentity {
    const module = this.modules.get(moduleId);
    if (!module) throw new Error(`no module "${moduleId}" in the deployment (modules: ${[...this.modules.keys()].join(', ')})`);
    return module;
  }

  /** The environment IoT Edge gives a module, for `ModuleClient.fromEnvironment`. */
  moduleEnv(moduleId: string): Record<string, string> {
    const { generationId } = this.identity(moduleId);
    return {
      IOTEDGE_WORKLOADURI: this.workloadUri,
      IOTEDGE_DEVICEID: this.deviceId,
      IOTEDGE_MODULEID: moduleId,
      IOTEDGE_IOTHUBHOSTNAME: this.iothubHostName,
      IOTEDGE_AUTHSCHEME: 'sasToken',
      IOTEDGE_MODULEGENERATIONID: generationId,
      IOTEDGE_GATEWAYHOSTNAME: this.gatewayHostName,
    };
  }

  /**
   * An EdgeHubConnectionString-style connection string (use with `setOptions({ ca: hub.caPem })`). With wrongKey,
   * a well-formed key that is not the module's, for testing how a module reports a rejected connection.
   */
  connectionString(moduleId: string, options: { wrongKey?: boolean } = {}): string {
    const key = options.wrongKey ? newModuleKey() : this.identity(moduleId).key;
    return `HostName=${this.iothubHostName};DeviceId=${this.deviceId};ModuleId=${moduleId};SharedAccessKey=${key};GatewayHostName=${this.gatewayHostName}`;
  }

  /** The latest upstream messages, at most keepUpstream of them. */
  upstreamMessages(): UpstreamMessage[] {
    return [...this.upstreamLog];
  }

  /**
   * Resolves with upstreamMessages() once at least `count` messages have gone upstream since the start (counting
   * those no longer kept); rejects after the timeout.
   */
  waitForUpstream(count: number, timeoutMs: number): Promise<UpstreamMessage[]> {
    return waitForEvent(
      this.upstream,
      'message',
      () => (this.upstreamCount >= count ? this.upstreamMessages() : undefined),
      timeoutMs,
      () => `${count} upstream message(s); got ${this.upstreamCount}`,
    );
  }

  twin(moduleId: string): { desired: JsonObject; reported: JsonObject } {
    return this.identity(moduleId).twin.snapshot();
  }

  /** Resolves with the module's reported properties once the predicate holds for them; rejects after the timeout. */
  waitForReported(moduleId: string, predicate: (reported: JsonObject) => boolean, timeoutMs: number): Promise<JsonObject> {
    const twin = this.identity(moduleId).twin;
    return waitForEvent(
      this.events,
      'reported',
      () => {
        const { reported } = twin.snapshot();
        return predicate(reported) ? reported : undefined;
      },
      timeoutMs,
      () => `reported properties of ${moduleId} to match; they are ${JSON.stringify(twin.snapshot().reported)}`,
    );
  }

  /** Applies a desired-properties patch (JSON merge patch) and pushes it to the module if it listens; returns the new $version. */
  async patchDesired(moduleId: string, patch: object): Promise<number> {
    const body = assertJsonObject(patch, 'a desired properties patch');
    const version = this.identity(moduleId).twin.patchDesired(body);
    this.log.info({ moduleId, patch: body, version }, `${moduleId} desired properties patched (version ${version})`);
    this.events.emit('desired', moduleId, body, version);
    const client = this.clients.get(moduleId);
    if (client && subscribed(client, DESIRED_TOPIC)) {
      await this.sendTo(client, desiredPatchTopic(version), JSON.stringify({ ...body, $version: version }));
    }
    return version;
  }

  /**
   * Sends `payload` as it is on the module's desired-properties patch topic, the twin left unchanged: a malformed
   * patch (not JSON), which edgeHub never sends, for how a module bears one to be tested. Resolves once sent; false
   * when the module does not listen for patches. `topic` another the module's subscription takes (`desired/#` takes
   * `desired` itself), for a hub or proxy that writes it otherwise.
   */
  async sendRawDesiredPatch(moduleId: string, payload: string | Buffer, topic = desiredPatchTopic(this.identity(moduleId).twin.desiredVersion)): Promise<boolean> {
    const client = this.clients.get(moduleId);
    if (!client || !subscribed(client, DESIRED_TOPIC)) return false;
    await this.sendTo(client, topic, payload);
    return true;
  }

  /** A direct method call, IoT Hub style: 404 when the module is not listening, 504 when it does not answer in time. */
  async invokeMethod(moduleId: string, methodName: string, payload?: unknown, timeoutMs = this.methodTimeoutMs): Promise<MethodResult> {
    if (!this.modules.has(moduleId)) return { status: 404, payload: { message: `no module "${moduleId}" in the deployment` } };
    const client = this.clients.get(moduleId);
    if (!client || !subscribed(client, METHODS_TOPIC)) {
      return { status: 404, payload: { errorCode: 404103, message: `${moduleId} is not connected or not listening for direct methods` } };
    }
    return this.methods.call(moduleId, methodName, payload, timeoutMs, (topic, body) => this.sendTo(client, topic, body));
  }

  /**
   * Resolves once the module listens for direct methods, desired-property patches or its inputs. The SDK subscribes
   * when a handler is registered (onMethod, twin.on('properties.desired'), on('inputMessage')), asynchronously:
   * a method invoked or a patch sent before that finds nobody listening, with IoT Hub as here.
   */
  waitForSubscription(moduleId: string, what: ModuleSubscription, timeoutMs: number): Promise<void> {
    this.identity(moduleId);
    const filter = subscriptionFilter(this.deviceId, moduleId, what);
    return waitForEvent(
      this.events,
      'subscribed',
      () => {
        const client = this.clients.get(moduleId);
        return client && subscribed(client, filter) ? true : undefined;
      },
      timeoutMs,
      () => `${moduleId} to subscribe to ${filter}`,
    ).then(() => undefined);
  }

  /**
   * A broken hub or proxy, for testing: twin GET requests (or reported-properties updates) are answered with this body,
   * on the status they would have had, until undefined again.
   */
  garbleTwinAnswers(body: string | undefined, to: TwinRequestKind = 'twin GET'): void {
    this.twinAnswersGarbled = body === undefined ? undefined : { body, to };
  }

  /**
   * A sick edgeHub, for testing: connections are accepted, twin GET requests (or reported-properties updates, left
   * unapplied) are never answered, until false again.
   */
  ignoreTwinRequests(ignore = true, which: TwinRequestKind = 'twin GET'): void {
    if (ignore) this.twinRequestsIgnored.add(which);
    else this.twinRequestsIgnored.delete(which);
  }

  connectedModules(): string[] {
    return [...this.clients.keys()];
  }

  /** Stops listening and drops every connection, like an edgeHub restart; twins, routes and queued messages stay. */
  async stopBroker(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
    this.log.info('broker stopped');
  }

  /** Listens again, on the same port. */
  async startBroker(): Promise<void> {
    if (this.server) return;
    const server = createServer({ key: this.certificates.serverKeyPem, cert: this.certificates.serverCertPem }, (socket) => this.broker.handle(socket));
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    server.on('tlsClientError', (err) => this.log.debug({ err }, 'TLS handshake failed'));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.listenPort, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.listenPort = (server.address() as AddressInfo).port;
    this.log.info({ port: this.listenPort }, `broker listening on ${this.host}:${this.listenPort}`);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.tokenSweep);
    this.methods.cancelAll();
    if (this.broker) {
      await this.stopBroker();
      await new Promise<void>((resolve) => this.broker.close(() => resolve()));
    }
    await this.workload?.close();
    if (this.ownsStateDir) rmSync(this.stateDir, { recursive: true, force: true });
  }

  private authenticationProblem(clientId: string, username: string | undefined, password: string | undefined): string | undefined {
    const [deviceId, moduleId, ...rest] = clientId.split('/');
    if (rest.length > 0 || !moduleId) return `client id "${clientId}" is not <device>/<module>`;
    if (deviceId !== this.deviceId) return `device "${deviceId}" is not this device ("${this.deviceId}")`;
    const module = this.modules.get(moduleId);
    if (!module) return `no module "${moduleId}" in the deployment (modules: ${[...this.modules.keys()].join(', ')})`;
    if (!username?.startsWith(`${this.iothubHostName}/${clientId}/`)) return `user name "${username}" is not ${this.iothubHostName}/${clientId}/?api-version=...`;
    if (!password) return 'no SAS token (password)';
    return sasTokenProblem(password, moduleResource(this.iothubHostName, this.deviceId, moduleId), module.key);
  }

  /** edgeHub re-authenticates connections and drops those whose token expired; a module must renew its token. */
  private dropExpiredConnections(): void {
    const now = Date.now();
    for (const [moduleId, client] of this.clients) {
      const expiry = this.tokenExpiry.get(client);
      if (expiry === undefined || expiry > now) continue;
      this.log.warn({ moduleId }, `${moduleId}'s SAS token expired at ${new Date(expiry).toISOString()}: connection closed`);
      this.tokenExpiry.delete(client);
      client.close();
    }
  }

  private moduleOf(client: Client): string {
    return client.id.slice(client.id.indexOf('/') + 1);
  }

  private sendTo(client: Client, topic: string, payload: string | Buffer): Promise<void> {
    return new Promise((resolve) => client.publish({ cmd: 'publish', topic, payload, qos: 0, retain: false, dup: false }, () => resolve()));
  }

  /** Whether ignoreTwinRequests says to leave such a request unanswered; logged when so. */
  private ignored(request: TwinRequestKind, moduleId: string): boolean {
    if (!this.twinRequestsIgnored.has(request)) return false;
    this.log.info({ moduleId }, `ignoring ${moduleId}'s ${request} request, as asked`);
    return true;
  }

  /** The body garbleTwinAnswers answers such a request with, if any. */
  private garbled(request: TwinRequestKind): string | undefined {
    return this.twinAnswersGarbled?.to === request ? this.twinAnswersGarbled.body : undefined;
  }

  /** Everything a module publishes: telemetry, twin requests, method answers. Throws for topics it may not use. */
  private onPublish(moduleId: string, client: Client, topic: string, payload: Buffer): void {
    const publication = publicationOf(this.deviceId, moduleId, topic);
    if (!publication) throw new Error(`${moduleId} may not publish to ${topic}`);
    switch (publication.kind) {
      case 'event':
        return this.route(moduleId, publication.propertySegment, payload);
      case 'twinGet': {
        if (this.ignored('twin GET', moduleId)) return;
        const reply = twinGetReply(this.identity(moduleId).twin, publication.requestId);
        void this.sendTo(client, reply.topic, this.garbled('twin GET') ?? reply.payload);
        return;
      }
      case 'reported': {
        if (this.ignored('reported update', moduleId)) return;
        const { reply, applied } = applyReportedPatch(this.identity(moduleId).twin, publication.requestId, payload);
        void this.sendTo(client, reply.topic, this.garbled('reported update') ?? reply.payload);
        if (!applied) return;
        this.log.debug({ moduleId, ...applied }, `${moduleId} reported properties`);
        emitToEach(this.events, this.log, 'reported', moduleId, applied.patch, applied.version);
        return;
      }
      case 'methodResponse':
        return this.methods.answer(moduleId, publication.requestId, publication.status, payload);
    }
  }

  /** Routes a module's message; throws for one over edgeHub's size limit, which edgeHub refuses likewise. */
  private route(moduleId: string, propertySegment: string, body: Buffer): void {
    const { properties, systemProperties } = parsePropertySegment(propertySegment);
    const size = messageSize(body, { properties, systemProperties });
    if (size > MAX_MESSAGE_BYTES) throw new Error(`${moduleId} sent a message of ${size} bytes (body and properties), over edgeHub's limit of ${MAX_MESSAGE_BYTES}`);
    const { outputName, contentType, contentEncoding } = contentOf(systemProperties);
    const sinks = sinksFor(this.routes, routedMessage(this.deviceId, moduleId, { properties, systemProperties }, body));
    const source = `${moduleId}/${outputName ?? '(no output)'}`;
    if (sinks.length === 0 && !this.unroutedWarned.has(source)) {
      this.unroutedWarned.add(source);
      this.log.warn({ moduleId, outputName }, `messages from ${source} match no route: dropped (warned once)`);
    }
    for (const sink of sinks) {
      if (sink.kind === 'upstream') {
        const message: UpstreamMessage = { moduleId, outputName, body, contentType, contentEncoding, properties, systemProperties, receivedAt: Date.now() };
        this.upstreamCount++;
        this.upstreamLog.push(message);
        if (this.upstreamLog.length > this.keepUpstream) this.upstreamLog.shift();
        emitToEach(this.upstream, this.log, 'message', message);
        continue;
      }
      // Delivered with the sender's identity, as edgeHub does ($.cdid/$.cmid); the output name stays behind.
      const { '$.on': _output, ...forwarded } = systemProperties;
      const segment = formatPropertySegment({ properties, systemProperties: { ...forwarded, '$.cdid': this.deviceId, '$.cmid': moduleId } });
      const topic = inputTopic(this.deviceId, sink.moduleId, sink.inputName, segment);
      this.broker.publish({ cmd: 'publish', topic, payload: body, qos: 1, retain: false, dup: false }, (err) => {
        if (err) this.log.warn({ err, topic }, `delivery to ${sink.moduleId}/${sink.inputName} failed`);
      });
    }
  }
}

