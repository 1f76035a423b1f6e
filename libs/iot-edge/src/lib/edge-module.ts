import type { EventEmitter } from 'node:events';
import { Backoff, maskCredentials, withTimeout } from '@iev/service-runtime';
import { NoRetry } from 'azure-iot-common';
import { Message, ModuleClient, SharedAccessKeyAuthenticationProvider, type DeviceMethodResponse, type Twin } from 'azure-iot-device';
import { Mqtt } from 'azure-iot-device-mqtt';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { readDesired, withinBytes, type DesiredSpec, type DesiredValues } from './desired-properties';
import { keepUnacknowledged, reportedPatch } from './reported-patch';
import { edgeConnectionKind, type EdgeConnectionKind } from './edge-environment';
import { describeEdgeFailure, EdgeAuthenticationError, edgeHubAddress, type EdgeFailure } from './edge-failure';
import { EdgeFailureLog } from './edge-failure-log';
import { PRODUCT_VERSION } from './product-version';
import { onMalformedTwinMessages } from './malformed-twin-messages';
import { trackTwinRequests } from './pending-twin-requests';
import { onUnregisteredMethods } from './unregistered-methods';

/**
 * A connection that stayed up this long starts the backoff over; one taken away sooner (another process with the
 * same module identity, which edgeHub lets take the connection over) keeps backing off.
 */
const HEALTHY_CONNECTION_MS = 30_000;
/**
 * How long closing the connection may take: its MQTT goodbye is a courtesy, and a module that stops (within its close
 * timeout, CLOSE_TIMEOUT_MS) must not wait out a request timeout on an edgeHub that does not answer.
 */
const CLOSE_CONNECTION_MS = 2_000;
/** What of a rejected patch's errors is reported (`lastDesired.error`); the log has them whole. */
const MAX_REPORTED_ERROR_BYTES = 1024;

/** Settings a module lets its twin change live. */
export interface TwinSettings<S extends DesiredSpec> {
  spec: S;
  /** The values the module started with (from env): a desired property removed from the twin returns to these. */
  startup: DesiredValues<S>;
  /**
   * Applies valid changes (`next` is every setting after them); a throw reports the error and leaves the settings as they
   * were. `startup`: they come from the first whole desired document since the module started, which after a restart
   * stands for its configuration as its environment does (a camera not plugged in yet is waited for, as at start-up),
   * not from a patch, nor from the document at a reconnect (which may hold a patch refused before).
   */
  apply(changes: Partial<DesiredValues<S>>, next: DesiredValues<S>, from: { startup: boolean }): Promise<PartlyApplied<DesiredValues<S>> | void> | PartlyApplied<DesiredValues<S>> | void;
}

/**
 * What apply returns when it put only part of the changes into effect (of eight cameras, the seven it could open): the
 * settings in force instead of those `next` asked for, and why each part left out was refused.
 */
export interface PartlyApplied<Settings> {
  // Any record: the settings of a module whose spec varies (inference's cameras, with CAPTURE_SOURCES only) share no key.
  settings: Partial<Settings> & Record<string, unknown>;
  refused: string[];
}

export type MethodHandler = (payload: unknown) => Promise<unknown> | unknown;

interface MethodAnswer {
  status: number;
  payload: unknown;
}

export interface EdgeModuleOptions<S extends DesiredSpec> {
  name: string;
  logger: Logger;
  settings?: TwinSettings<S>;
  /**
   * Reported properties besides version and settings (model id, backend, fps...), sent at connect and every reportIntervalMs.
   * A throw is logged and leaves them out of that report.
   */
  reported?: () => Record<string, unknown>;
  reportIntervalMs?: number;
  status?: () => Record<string, unknown>;
  /**
   * Direct methods besides getStatus, by name: a handler's value is the answer (200), a throw answers 400 with its
   * message. A method the module does not have answers 501, naming it and these.
   */
  methods?: Record<string, MethodHandler>;
  registry?: Registry;
  /** Between connection attempts; default 1 s doubling to 10 s: edgeHub is local, and at boot it comes up after the modules. */
  backoff?: Backoff;
  /** How long edgeHub may take to accept the connection (TLS, MQTT CONNECT, token check); default 30 s. */
  openTimeoutMs?: number;
  /** How long edgeHub may take to answer a request (twin, reported properties, output event, close); default 15 s. */
  requestTimeoutMs?: number;
  /** How long each SAS token is valid and how long before it expires the next is signed; default the SDK's: 1 h, 15 min (a renewal every 45 min). */
  tokenRenewal?: { tokenValidTimeInSeconds: number; tokenRenewalMarginInSeconds: number };
  /** How long close() waits for a twin patch still being applied (a model loading, say); default 5 s, so a module still stops within Docker's 10 s grace. */
  applyOnCloseTimeoutMs?: number;
  /**
   * How long after start edgeHub not being there yet is IoT Edge's normal boot order (edgeHub starts after the
   * modules): until the first connection, or this long, it is said once at info; then it warns. Default 60 s.
   */
  firstConnectionGraceMs?: number;
}

/** The edge connection is down right now; telemetry queues and retries. */
export class EdgeNotConnectedError extends Error {
  override readonly name = 'EdgeNotConnectedError';
  /** The module has not connected yet since it started, within its firstConnectionGraceMs: the normal boot order, no outage. */
  constructor(message: string, readonly awaitingFirstConnection = false) {
    super(message);
  }
}

/** The SDK reported a failure of a link still being set up: that attempt fails with it. */
class LinkSetUpFailed extends Error {
  override readonly name = 'LinkSetUpFailed';
  constructor(readonly failure: EdgeFailure) {
    super(failure.message);
  }
}

/**
 * One module's link to IoT Edge through the module SDK: opens the ModuleClient (fromEnvironment: the
 * IOTEDGE_* variables inside IoT Edge, a connection string in development), applies twin desired properties
 * at connect and live, reports version/settings/status, answers direct methods, and sends output events.
 * The link comes up in the background and every call to edgeHub has a timeout, so the module works from its
 * first second whether edgeHub is up, still starting, or hung; a link that fails or drops is rebuilt with
 * capped exponential backoff. Only edgeHub refusing the credentials is final (`fatal`).
 */
export class EdgeModule<S extends DesiredSpec = DesiredSpec> {
  private client: ModuleClient | undefined;
  private twin: Twin | undefined;
  private settings: DesiredValues<S> | undefined;
  private lastDesired: { version?: number; status: 'applied' | 'rejected' | 'none'; error: string | null } = { status: 'none', error: null };
  private readonly backoff: Backoff;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private reportTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly connectedListeners: Array<() => void> = [];
  private readonly metrics: { connected: Gauge; reconnects: Counter; desiredRejected: Counter; twinMalformed: Counter };
  private applying: Promise<void> = Promise.resolve();
  /** Whether a whole desired document has been read since start-up (see TwinSettings.apply's `startup`). */
  private readStartupDocument = false;
  private failedAttempts = 0;
  /** On the monotonic clock: the wall clock may step at a device's boot (NTP), when this grace matters. */
  private readonly startedAt = performance.now();
  private everConnected = false;
  /** On the monotonic clock: since when the module has had no connection (its start, before the first). */
  private disconnectedAt = this.startedAt;
  private readonly failureLog = new EdgeFailureLog();
  /** The link being set up (not yet `client`), and how a failure the SDK reports for it meanwhile fails that attempt. */
  private settingUp: { client: ModuleClient; fail: (failure: EdgeFailure) => void } | undefined;
  /** What `reported` last threw, already logged: one that keeps throwing is logged once, not at every report. */
  private loggedReportedError: string | undefined;
  private periodicReportFailing = false;
  private failFatally!: (error: EdgeAuthenticationError) => void;
  /** Rejects with EdgeAuthenticationError when edgeHub refuses the module's credentials; never resolves. */
  readonly fatal: Promise<never>;
  private markStartupApplied!: () => void;
  /**
   * Resolves once the first whole desired document since start-up has been applied (refused values and all): the
   * module then runs as its twin configures it, not only as its environment does. Not while edgeHub is away.
   */
  readonly startupApplied: Promise<void>;
  /** host:port the module dials. */
  readonly address: string;

  private constructor(
    readonly kind: Exclude<EdgeConnectionKind, 'none'>,
    private readonly options: EdgeModuleOptions<S>,
  ) {
    this.address = edgeHubAddress(kind);
    this.fatal = new Promise<never>((_resolve, reject) => (this.failFatally = reject));
    // Nobody need listen: a module without a fatal handler must not die of an unhandled rejection.
    this.fatal.catch(() => undefined);
    this.startupApplied = new Promise<void>((resolve) => (this.markStartupApplied = resolve));
    this.backoff = options.backoff ?? new Backoff(1000, 10_000);
    this.settings = options.settings ? { ...options.settings.startup } : undefined;
    // Without a registry the metrics are registered nowhere: kept, never scraped.
    const registers = options.registry ? [options.registry] : [];
    const prefix = `iev_${options.name}_iot_edge`;
    this.metrics = {
      connected: new Gauge({ name: `${prefix}_connected`, help: '1 while the module is connected to edgeHub', registers }),
      reconnects: new Counter({ name: `${prefix}_reconnects_total`, help: 'Attempts to connect to edgeHub again after a failed attempt or a lost connection, before the first connection too', registers }),
      desiredRejected: new Counter({ name: `${prefix}_desired_rejected_total`, help: 'Twin desired values rejected as invalid', registers }),
      twinMalformed: new Counter({
        name: `${prefix}_twin_malformed_total`,
        help: "Twin messages dropped as not a JSON object (edgeHub sends only those; the IoT SDK threw on the rest): desired-properties patches, and answers to the module's twin requests, which then fail",
        registers,
      }),
    };
  }

  /**
   * Starts connecting in the background when the environment says the module runs under IoT Edge (or has a
   * connection string) and returns at once; undefined for a plain local run. An incomplete IoT Edge
   * environment throws EdgeConfigError; refused credentials reject `fatal`.
   */
  static start<S extends DesiredSpec>(options: EdgeModuleOptions<S>): EdgeModule<S> | undefined {
    const kind = edgeConnectionKind(process.env);
    if (kind === 'none') return undefined;
    const module = new EdgeModule(kind, options);
    module.attempt();
    return module;
  }

  get connected(): boolean {
    return this.client !== undefined;
  }

  /** How long the module has been without a connection to edgeHub (since its start, before the first); 0 while connected. */
  get disconnectedForMs(): number {
    return this.connected ? 0 : Math.round(performance.now() - this.disconnectedAt);
  }

  /** Not connected yet since start, and still within firstConnectionGraceMs: edgeHub may well be starting after the module. */
  get awaitingFirstConnection(): boolean {
    return !this.everConnected && !this.closed && this.sinceStartMs() < (this.options.firstConnectionGraceMs ?? 60_000);
  }

  private sinceStartMs(): number {
    return Math.round(performance.now() - this.startedAt);
  }

  /** The settings now in force (start-up values with the twin's accepted changes). */
  currentSettings(): DesiredValues<S> | undefined {
    return this.settings ? { ...this.settings } : undefined;
  }

  /** Called after every (re)connect, e.g. to retry queued messages at once. */
  onConnected(listener: () => void): void {
    this.connectedListeners.push(listener);
  }

  async sendOutputEvent(outputName: string, message: Message): Promise<void> {
    const client = this.client;
    if (!client) throw new EdgeNotConnectedError(this.awaitingFirstConnection ? 'not connected to edgeHub yet (it may still be starting)' : 'not connected to edgeHub', this.awaitingFirstConnection);
    await this.request(client.sendOutputEvent(outputName, message), 'an output event');
  }

  /**
   * Sends reported properties now, merged into the twin's reported document; each object in `report` is whole, and
   * what it no longer holds leaves the twin (reportedPatch).
   */
  async report(report: Record<string, unknown>): Promise<void> {
    const { client, twin } = this;
    if (!client || !twin) return;
    const patch = reportedPatch(twin.properties.reported, report);
    const { sent: update, forgetUnanswered } = trackTwinRequests(
      client._transport,
      () => new Promise<void>((resolve, reject) => twin.properties.reported.update(patch, (error?: Error) => (error ? reject(error) : resolve()))),
    );
    await this.request(update, 'a reported properties update').catch((error: unknown) => {
      // Timed out on a link that stays up: the SDK would hold the update, its patch with it, as long as the link.
      forgetUnanswered();
      keepUnacknowledged(twin.properties.reported, patch);
      throw error;
    });
  }

  status(): Record<string, unknown> {
    return {
      module: this.options.name,
      version: PRODUCT_VERSION,
      connected: this.connected,
      settings: this.settings ? withCredentialsMasked(this.settings) : undefined,
      lastDesired: this.lastDesired,
      ...this.options.status?.(),
    };
  }

  /** Waits (bounded) for the twin patch being applied; patches queued behind it or arriving later are not applied. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    await this.patchBeingApplied();
    const client = this.client;
    this.detach(); // also stops the report timer
    if (client) await this.closeClient(client);
  }

  /**
   * A patch cut short by the app shutting down after close() (disposing its models, exiting) could install a model
   * nobody disposes, or exit while a worker is creating one.
   */
  private async patchBeingApplied(): Promise<void> {
    await withTimeout(this.applying, this.options.applyOnCloseTimeoutMs ?? 5_000, 'the twin patch being applied').catch((error) =>
      this.options.logger.warn({ err: error }, 'closing the IoT Edge connection while a twin patch may still be applied'),
    );
  }

  private request<T>(work: Promise<T>, what: string): Promise<T> {
    return withTimeout(work, this.options.requestTimeoutMs ?? 15_000, what);
  }

  private async closeClient(client: ModuleClient): Promise<void> {
    await withTimeout(client.close(), Math.min(CLOSE_CONNECTION_MS, this.options.requestTimeoutMs ?? Infinity), 'closing the connection').catch(() => undefined);
  }

  private attempt(): void {
    this.connect().catch((error) => this.onConnectFailed(error));
  }

  private async connect(): Promise<void> {
    // Inside IoT Edge this asks the workload API for the trust bundle.
    const client = await this.request(ModuleClient.fromEnvironment(Mqtt), 'the IoT Edge workload API (trust bundle)');
    // Our own backoff rebuilds the whole client on any drop; the SDK's internal retries would hide outages
    // from the queue and the metrics.
    client.setRetryPolicy(new NoRetry());
    // The client emits 'error' when subscribing to direct methods fails (onMethod subscribes in the background).
    this.rebuildOnError(client, client, 'the IoT Edge client (subscribing to direct methods)');
    this.watchTokenRenewal(client);
    this.dropMalformedTwinMessages(client);
    let twin: Twin;
    try {
      twin = await this.setUp(client);
    } catch (error) {
      await this.closeClient(client);
      throw error;
    }
    if (this.closed) return this.closeClient(client);
    this.client = client;
    this.twin = twin;
    this.everConnected = true;
    this.backoff.up(HEALTHY_CONNECTION_MS);
    this.metrics.connected.set(1);
    this.options.logger.info({ kind: this.kind, address: this.address, failedAttempts: this.failedAttempts }, `connected to IoT Edge (edgeHub at ${this.address})`);
    this.failedAttempts = 0;
    this.rebuildOnError(client, twin, 'subscribing to desired-property patches');
    // Fires once with the whole desired document, then with each patch.
    let complete = true;
    twin.on('properties.desired', (desired: Record<string, unknown>) => {
      this.onDesired(desired, complete);
      complete = false;
    });
    await this.report({ version: PRODUCT_VERSION, ...this.moduleReported(), settings: this.reportedSettings() }).catch((error) =>
      this.options.logger.warn({ err: error }, 'could not report version and settings'),
    );
    clearInterval(this.reportTimer);
    const intervalMs = this.options.reportIntervalMs ?? 30_000;
    // Settings and lastDesired too: a report after a patch that failed while the link stayed up is made good here.
    this.reportTimer = setInterval(
      () => void this.report({ ...this.moduleReported(), settings: this.reportedSettings(), lastDesired: this.lastDesired }).then(
        () => (this.periodicReportFailing = false),
        (error) => {
          // Once per run of failures: a report edgeHub refuses would otherwise fail unseen every interval.
          if (!this.periodicReportFailing) this.options.logger.warn({ err: error }, 'could not send the periodic report');
          this.periodicReportFailing = true;
        },
      ),
      intervalMs,
    );
    this.reportTimer.unref();
    for (const listener of this.connectedListeners) listener();
  }

  /**
   * Opens the link, subscribes to direct methods and gets the twin. The method subscription's answer comes while the
   * twin is awaited: a failure reported meanwhile (that one, a drop) fails the attempt at once, as drop() would.
   */
  private async setUp(client: ModuleClient): Promise<Twin> {
    const failed = new Promise<never>((_resolve, reject) => (this.settingUp = { client, fail: (failure) => reject(new LinkSetUpFailed(failure)) }));
    try {
      await Promise.race([withTimeout(client.open(), this.options.openTimeoutMs ?? 30_000, 'opening the connection'), failed]);
      client.on('disconnect', () => this.drop(client, { kind: 'unreachable', message: `disconnected from edgeHub at ${this.address}` }));
      this.registerMethods(client);
      return await Promise.race([this.request(client.getTwin(), 'the twin request'), failed]);
    } finally {
      this.settingUp = undefined;
    }
  }

  private registerMethods(client: ModuleClient): void {
    const methods: Record<string, MethodHandler> = { getStatus: () => this.status(), ...this.options.methods };
    for (const [name, handler] of Object.entries(methods)) {
      client.onMethod(name, (request, response) => {
        if (!request || !response) return;
        void (async () => {
          let answer: MethodAnswer;
          try {
            answer = { status: 200, payload: (await handler(request.payload)) ?? {} };
          } catch (error) {
            answer = { status: 400, payload: { error: (error as Error).message } };
          }
          await this.sendAnswer(name, response, answer);
        })();
      });
    }
    this.answerUnregisteredMethods(client, Object.keys(methods));
  }

  /**
   * A call to a method the module does not have is answered 501 at once, naming it and the methods the module has:
   * left to time out (504), a typo or a module of an older version would look to its caller like a hung module.
   */
  private answerUnregisteredMethods(client: ModuleClient, names: string[]): void {
    const hooked = onUnregisteredMethods(client._transport, names, ({ methodName: asked, malformed, response }) => {
      const methodName = shown(asked);
      if (!response) {
        this.options.logger.warn(
          { method: methodName },
          `a call to the direct method "${methodName}" came without a request id the SDK could read (a '?' or '#' in the method name?): it cannot be answered, and its caller gets 504`,
        );
        return;
      }
      const error = `${this.options.name} has no direct method "${methodName}" (its methods: ${names.join(', ')})`;
      // A typo is the caller's business (info); a topic the SDK reads no name from is a malformed message (warn).
      if (malformed) this.options.logger.warn({ method: methodName }, `${error}: the IoT SDK reads no method name from its topic`);
      else this.options.logger.info({ method: methodName }, error);
      void this.sendAnswer(methodName, response, { status: 501, payload: { error, method: methodName, methods: names } });
    });
    if (!hooked) {
      this.options.logger.warn(
        "the IoT SDK no longer dispatches direct methods as events named method_<name> from its transport's _onDeviceMethod (SDK internals changed?): a call to a method the module does not have will go unanswered, and its caller gets 504, not 501; one to a name the SDK reads no name from (empty, or starting with '/', '#' or a backslash) may end the process",
      );
    }
  }

  /**
   * A desired-properties patch, or an answer to a twin request, that is not a JSON object is counted, logged and
   * dropped: the SDK threw on it, uncaught. The request it answered fails at once, and a twin GET's fails the link, rebuilt.
   */
  private dropMalformedTwinMessages(client: ModuleClient): void {
    const hooked = onMalformedTwinMessages(client._transport, ({ kind, topic, payload, reason, failedRequest }) => {
      this.metrics.twinMalformed.inc();
      const dropped =
        kind === 'desired patch'
          ? 'a desired-properties patch that is not a JSON object was dropped'
          : `an answer to a twin request that is not a JSON object was dropped, ${failedRequest ? 'the request failed' : 'no request waiting for it'}`;
      this.options.logger.warn({ topic, bytes: Buffer.byteLength(payload) }, `${dropped} (${reason}): ${shown(maskCredentials(payload))}`);
    });
    if (!hooked) {
      this.options.logger.warn(
        "the IoT SDK's MQTT transport no longer has the MQTT connection its twin client reads from (SDK internals changed?): a desired-properties patch or twin answer that is not JSON may end the process",
      );
    }
  }

  private async sendAnswer(name: string, response: DeviceMethodResponse, answer: MethodAnswer): Promise<void> {
    await this.request(response.send(answer.status, answer.payload), `the answer to ${name}`).catch((error) =>
      this.options.logger.warn({ err: error, method: name }, `could not answer the direct method ${name}`),
    );
  }

  /** complete: the whole desired document (at connect), not a patch. */
  private onDesired(desired: Record<string, unknown>, complete: boolean): void {
    // Patches are applied one at a time, in the order they arrive; none once close() has begun. One whose handling
    // throws must not leave the chain rejected: every later patch would go unapplied, and the rejection end the process.
    this.applying = this.applying
      .then(() => (this.closed ? undefined : this.applyDesired(desired, complete)))
      .catch((error: unknown) =>
        this.options.logger.error({ err: error }, `handling a twin desired document failed (${error instanceof Error ? error.message : String(error)}); later ones are still applied`),
      );
  }

  /**
   * The module's own reported properties, {} when `reported` throws (a model id getter while its worker is down):
   * such a throw must neither fail the connection nor, from the report timer, crash the process.
   */
  private moduleReported(): Record<string, unknown> {
    try {
      const reported = this.options.reported?.() ?? {};
      // Working again: the same failure later is news.
      this.loggedReportedError = undefined;
      return reported;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (message !== this.loggedReportedError) {
        this.options.logger.warn({ err: error }, `the module's own reported properties are left out of the report (${message})`);
        this.loggedReportedError = message;
      }
      return {};
    }
  }

  private async applyDesired(desired: Record<string, unknown>, complete: boolean): Promise<void> {
    const startup = complete && !this.readStartupDocument;
    if (complete) this.readStartupDocument = true;
    const settingsSpec = this.options.settings;
    const version = typeof desired['$version'] === 'number' ? desired['$version'] : undefined;
    const errors: string[] = [];
    if (settingsSpec && this.settings) {
      const update = readDesired(settingsSpec.spec, desired, this.settings, settingsSpec.startup, { complete });
      errors.push(...update.errors);
      if (Object.keys(update.changes).length > 0) {
        const next = { ...this.settings, ...update.changes };
        try {
          const partly = await settingsSpec.apply(update.changes, next, { startup });
          this.settings = { ...next, ...partly?.settings };
          if (partly) errors.push(...partly.refused.map(maskCredentials));
          this.options.logger.info({ changes: withCredentialsMasked(update.changes), desiredVersion: version }, 'twin settings applied');
        } catch (error) {
          // Whatever apply threw: a library it calls may throw a value that is no Error.
          errors.push(maskCredentials(error instanceof Error ? error.message : String(error)));
        }
      }
    } else if (Object.keys(desired).some((key) => !key.startsWith('$'))) {
      errors.push(`${this.options.name} has no settings a twin can change`);
    }
    if (errors.length > 0) {
      this.metrics.desiredRejected.inc(errors.length);
      // In the message, not a field: the IoT Edge log format cuts a field at 200 characters, and a refused property with it.
      this.options.logger.warn({ desiredVersion: version }, `twin desired values rejected: ${errors.join('; ')}`);
    }
    this.lastDesired = { version, status: errors.length > 0 ? 'rejected' : 'applied', error: errors.length > 0 ? withinBytes(errors.join('; '), MAX_REPORTED_ERROR_BYTES) : null };
    // Not waited for: a report cut off by a lost connection never ends in the SDK, and the next patch (the whole
    // document at reconnect) would wait out its timeout behind it. The periodic report makes a lost one good.
    void this.report({ settings: this.reportedSettings(), lastDesired: this.lastDesired }).catch((error) =>
      this.options.logger.warn({ err: error }, 'could not report twin settings'),
    );
    if (startup) this.markStartupApplied();
  }

  /**
   * Reported properties merge like a JSON merge patch: an unset setting must be sent as null to leave the twin. A camera
   * URL's password is masked: the twin's reported side is read by more than those who set its desired side.
   */
  private reportedSettings(): Record<string, unknown> | null {
    return this.settings ? unsetAsNull(withCredentialsMasked(this.settings)) : null;
  }

  /**
   * The SDK renews the SAS token on a timer (under IoT Edge the workload API signs it). A renewal that fails is
   * emitted as 'error' on the authentication provider, which the SDK keeps to itself; rebuilding the link signs a new token.
   */
  private watchTokenRenewal(client: ModuleClient): void {
    const provider = tokenProviderOf(client);
    if (!provider) {
      this.options.logger.warn('the IoT SDK authentication provider was not found (SDK internals changed?): a failed SAS token renewal will stop the module');
      return;
    }
    this.rebuildOnError(client, provider, 'renewing the SAS token (signed by the IoT Edge workload API)');
    const renewal = this.options.tokenRenewal;
    if (renewal) provider.setTokenRenewalValues(renewal.tokenValidTimeInSeconds, renewal.tokenRenewalMarginInSeconds);
  }

  /**
   * What the SDK does in the background (subscribing, renewing the token) fails as an 'error' on the part that did
   * it: unheard it would crash the process, and only logged the link would stay up without that part working.
   */
  private rebuildOnError(client: ModuleClient, part: EventEmitter, what: string): void {
    part.on('error', (error: Error) => this.drop(client, this.failureOf(what, error)));
  }

  /** Classed by its cause like a failed connection (a workload API socket not there is `unreachable`). */
  private failureOf(what: string, error: Error): EdgeFailure {
    return { kind: describeEdgeFailure(error, this.address, this.kind).kind, message: `${what} failed (${error.message})` };
  }

  /** The connection is lost or can no longer be trusted: close it and build a new one with backoff. */
  private drop(client: ModuleClient, failure: EdgeFailure): void {
    if (this.settingUp?.client === client) return this.settingUp.fail(failure);
    if (this.client !== client) return;
    this.detach();
    void this.closeClient(client);
    this.scheduleReconnect(failure);
  }

  private detach(): void {
    if (this.client) this.disconnectedAt = performance.now();
    this.client = undefined;
    this.twin = undefined;
    clearInterval(this.reportTimer);
    this.metrics.connected.set(0);
  }

  private onConnectFailed(error: unknown): void {
    if (this.closed) return;
    const failure = error instanceof LinkSetUpFailed ? error.failure : describeEdgeFailure(error, this.address, this.kind);
    if (failure.kind === 'unauthorized') {
      this.closed = true;
      this.failFatally(new EdgeAuthenticationError(failure.message));
      return;
    }
    this.scheduleReconnect(failure);
  }

  private scheduleReconnect(failure: EdgeFailure): void {
    if (this.closed) return;
    this.failedAttempts += 1;
    const delayMs = this.backoff.next();
    const fields = { failure: failure.kind, attempt: this.failedAttempts, retryInMs: delayMs };
    const text = `${failure.message}; retrying in ${(delayMs / 1000).toFixed(1)} s`;
    // edgeHub (or the workload API) not listening yet is the normal boot order.
    const awaitingFirstConnection = failure.kind === 'unreachable' && this.awaitingFirstConnection;
    const level = this.failureLog.levelOf({ awaitingFirstConnection, attempt: this.failedAttempts, cause: failure.message });
    if (awaitingFirstConnection) this.options.logger[level](fields, `${text} (waiting for edgeHub's first connection; normal while IoT Edge starts)`);
    else this.options.logger[level](this.everConnected ? fields : { ...fields, sinceStartMs: this.sinceStartMs() }, text);
    this.reconnectTimer = setTimeout(() => {
      this.metrics.reconnects.inc();
      this.attempt();
    }, delayMs);
  }
}

/**
 * The client's SAS token provider, which the SDK keeps private: its MQTT transport holds it, the same for
 * fromEnvironment under IoT Edge (IotEdgeAuthenticationProvider) and for a connection string.
 */
function tokenProviderOf(client: ModuleClient): SharedAccessKeyAuthenticationProvider | undefined {
  const provider = (client._transport as { _authenticationProvider?: unknown })._authenticationProvider;
  return provider instanceof SharedAccessKeyAuthenticationProvider ? provider : undefined;
}

/** An IoT Hub message carrying JSON: content type and encoding set so IoT Hub routing can query the body. */
export function jsonMessage(body: unknown, properties: Record<string, string | number> = {}): Message {
  const message = new Message(JSON.stringify(body));
  message.contentType = 'application/json';
  message.contentEncoding = 'utf-8';
  for (const [key, value] of Object.entries(properties)) message.properties.add(key, String(value));
  return message;
}

/** The settings with `leaf` applied to each value, in a group too. */
function mapSettings(settings: Record<string, unknown>, leaf: (value: unknown) => unknown): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(settings).map(([key, value]) => [key, value !== null && typeof value === 'object' ? mapSettings(value as Record<string, unknown>, leaf) : leaf(value)]),
  );
}

/** Each unset setting as null. */
const unsetAsNull = (settings: Record<string, unknown>) => mapSettings(settings, (value) => value ?? null);

/** The settings as logged, reported and told: a camera URL's password (a capture's `source`, inference's `cameras`) masked. */
const withCredentialsMasked = (settings: Record<string, unknown>) => mapSettings(settings, (value) => (typeof value === 'string' ? maskCredentials(value) : value));

/** The most of a method name, or of a malformed twin message, an answer or a log line echoes. */
const SHOWN_CHARS = 200;

/**
 * A method name, or a malformed twin message, as answers and logs show it: a name of up to 65,535 bytes (MQTT's topic limit),
 * echoed whole in a 501 body that names it twice, made an answer over the 128 KB a direct method may carry, which the
 * hub refused (400).
 */
function shown(text: string): string {
  return text.length <= SHOWN_CHARS ? text : `${text.slice(0, SHOWN_CHARS)}… (${text.length} characters)`;
}
