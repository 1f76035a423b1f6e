import { Backoff } from '@iev/service-runtime';
import { NoRetry } from 'azure-iot-common';
import { Message, ModuleClient, type Twin } from 'azure-iot-device';
import { Mqtt } from 'azure-iot-device-mqtt';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { readDesired, type DesiredSpec, type DesiredValues } from './desired-properties';
import { edgeConnectionKind, type EdgeConnectionKind } from './edge-environment';
import { PRODUCT_VERSION } from './product-version';

/** Settings a module lets its twin change live. */
export interface TwinSettings<S extends DesiredSpec> {
  spec: S;
  /** The values the module started with (from env): a desired property removed from the twin returns to these. */
  startup: DesiredValues<S>;
  /** Applies valid changes (`next` is every setting after them); a throw reports the error and leaves the settings as they were. */
  apply(changes: Partial<DesiredValues<S>>, next: DesiredValues<S>): Promise<void> | void;
}

export type MethodHandler = (payload: unknown) => Promise<unknown> | unknown;

export interface EdgeModuleOptions<S extends DesiredSpec> {
  name: string;
  logger: Logger;
  settings?: TwinSettings<S>;
  /** Reported properties besides version and settings (model id, backend, fps...), sent at connect and every reportIntervalMs. */
  reported?: () => Record<string, unknown>;
  reportIntervalMs?: number;
  status?: () => Record<string, unknown>;
  registry?: Registry;
  backoff?: Backoff;
}

/** The module's credentials were refused: retrying cannot help, so start-up stops with this. */
export class EdgeAuthenticationError extends Error {
  override readonly name = 'EdgeAuthenticationError';
}

/** The edge connection is down right now; telemetry queues and retries. */
export class EdgeNotConnectedError extends Error {
  override readonly name = 'EdgeNotConnectedError';
}

/**
 * One module's link to IoT Edge through the module SDK: opens the ModuleClient (fromEnvironment: the
 * IOTEDGE_* variables inside IoT Edge, a connection string in development), applies twin desired properties
 * at connect and live, reports version/settings/status, answers direct methods, and sends output events.
 * When the link drops it is rebuilt with capped exponential backoff; the module keeps running meanwhile.
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
  private readonly metrics: { connected: Gauge; reconnects: Counter; desiredRejected: Counter };
  private applying: Promise<void> = Promise.resolve();

  private constructor(
    readonly kind: Exclude<EdgeConnectionKind, 'none'>,
    private readonly options: EdgeModuleOptions<S>,
  ) {
    this.backoff = options.backoff ?? new Backoff(1000, 30_000);
    this.settings = options.settings ? { ...options.settings.startup } : undefined;
    // Without a registry the metrics are registered nowhere: kept, never scraped.
    const registers = options.registry ? [options.registry] : [];
    const prefix = `iev_${options.name}_iot_edge`;
    this.metrics = {
      connected: new Gauge({ name: `${prefix}_connected`, help: '1 while the module is connected to edgeHub', registers }),
      reconnects: new Counter({ name: `${prefix}_reconnects_total`, help: 'Times the edgeHub connection was rebuilt', registers }),
      desiredRejected: new Counter({ name: `${prefix}_desired_rejected_total`, help: 'Twin desired values rejected as invalid', registers }),
    };
  }

  /**
   * Connects when the environment says the module runs under IoT Edge (or has a connection string); returns
   * undefined for a plain local run. Refused credentials throw EdgeAuthenticationError; an unreachable
   * edgeHub is logged and retried in the background, so the module starts anyway.
   */
  static async start<S extends DesiredSpec>(options: EdgeModuleOptions<S>): Promise<EdgeModule<S> | undefined> {
    const kind = edgeConnectionKind(process.env);
    if (kind === 'none') return undefined;
    const module = new EdgeModule(kind, options);
    try {
      await module.connect();
    } catch (error) {
      if (error instanceof EdgeAuthenticationError) throw error;
      module.scheduleReconnect(error);
    }
    return module;
  }

  get connected(): boolean {
    return this.client !== undefined;
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
    if (!client) throw new EdgeNotConnectedError('not connected to edgeHub');
    await client.sendOutputEvent(outputName, message);
  }

  /** Sends reported properties now (merged into the twin's reported document). */
  async report(patch: Record<string, unknown>): Promise<void> {
    const twin = this.twin;
    if (!twin) return;
    await new Promise<void>((resolve, reject) => twin.properties.reported.update(patch, (error?: Error) => (error ? reject(error) : resolve())));
  }

  status(): Record<string, unknown> {
    return {
      module: this.options.name,
      version: PRODUCT_VERSION,
      connected: this.connected,
      settings: this.currentSettings(),
      lastDesired: this.lastDesired,
      ...this.options.status?.(),
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.detach(); // also stops the report timer
    await client?.close().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = await ModuleClient.fromEnvironment(Mqtt);
    // Our own backoff rebuilds the whole client on any drop; the SDK's internal retries would hide outages
    // from the queue and the metrics.
    client.setRetryPolicy(new NoRetry());
    client.on('error', (error: Error) => this.options.logger.warn({ err: error }, 'IoT Edge client error'));
    try {
      await client.open();
    } catch (error) {
      await client.close().catch(() => undefined);
      throw describeOpenError(error, this.kind);
    }
    client.on('disconnect', () => {
      if (this.client !== client) return;
      this.detach();
      void client.close().catch(() => undefined);
      this.scheduleReconnect(new Error('disconnected from edgeHub'));
    });
    let twin: Twin;
    try {
      this.registerMethods(client);
      twin = await client.getTwin();
    } catch (error) {
      await client.close().catch(() => undefined);
      throw error;
    }
    this.client = client;
    this.twin = twin;
    this.backoff.reset();
    this.metrics.connected.set(1);
    this.options.logger.info({ kind: this.kind }, 'connected to IoT Edge');
    // Fires once with the whole desired document, then with each patch.
    twin.on('properties.desired', (desired: Record<string, unknown>) => this.onDesired(desired));
    await this.report({ version: PRODUCT_VERSION, ...this.options.reported?.(), settings: this.reportedSettings() });
    clearInterval(this.reportTimer);
    const intervalMs = this.options.reportIntervalMs ?? 30_000;
    this.reportTimer = setInterval(() => void this.report({ ...this.options.reported?.() }).catch(() => undefined), intervalMs);
    this.reportTimer.unref();
    for (const listener of this.connectedListeners) listener();
  }

  private registerMethods(client: ModuleClient): void {
    const methods: Record<string, MethodHandler> = { getStatus: () => this.status() };
    for (const [name, handler] of Object.entries(methods)) {
      client.onMethod(name, (request, response) => {
        if (!request || !response) return;
        void (async () => {
          try {
            await response.send(200, (await handler(request.payload)) ?? {});
          } catch (error) {
            await response.send(400, { error: (error as Error).message }).catch(() => undefined);
          }
        })();
      });
    }
  }

  private onDesired(desired: Record<string, unknown>): void {
    // Patches are applied one at a time, in the order they arrive.
    this.applying = this.applying.then(() => this.applyDesired(desired));
  }

  private async applyDesired(desired: Record<string, unknown>): Promise<void> {
    const settingsSpec = this.options.settings;
    const version = typeof desired['$version'] === 'number' ? desired['$version'] : undefined;
    const errors: string[] = [];
    if (settingsSpec && this.settings) {
      const update = readDesired(settingsSpec.spec, desired, this.settings, settingsSpec.startup);
      errors.push(...update.errors);
      if (Object.keys(update.changes).length > 0) {
        const next = { ...this.settings, ...update.changes };
        try {
          await settingsSpec.apply(update.changes, next);
          this.settings = next;
          this.options.logger.info({ changes: update.changes, desiredVersion: version }, 'twin settings applied');
        } catch (error) {
          errors.push((error as Error).message);
        }
      }
    } else if (Object.keys(desired).some((key) => !key.startsWith('$'))) {
      errors.push(`${this.options.name} has no settings a twin can change`);
    }
    if (errors.length > 0) {
      this.metrics.desiredRejected.inc(errors.length);
      this.options.logger.warn({ errors, desiredVersion: version }, 'twin desired values rejected');
    }
    this.lastDesired = { version, status: errors.length > 0 ? 'rejected' : 'applied', error: errors.length > 0 ? errors.join('; ') : null };
    await this.report({ settings: this.reportedSettings(), lastDesired: this.lastDesired }).catch((error) =>
      this.options.logger.warn({ err: error }, 'could not report twin settings'),
    );
  }

  /** Reported properties merge like a JSON merge patch: an unset setting must be sent as null to leave the twin. */
  private reportedSettings(): Record<string, unknown> | null {
    if (!this.settings) return null;
    return Object.fromEntries(Object.entries(this.settings).map(([key, value]) => [key, value ?? null]));
  }

  private detach(): void {
    this.client = undefined;
    this.twin = undefined;
    clearInterval(this.reportTimer);
    this.metrics.connected.set(0);
  }

  private scheduleReconnect(reason: unknown): void {
    if (this.closed) return;
    const delayMs = this.backoff.next();
    this.options.logger.warn({ err: reason, retryInMs: delayMs }, 'IoT Edge connection unavailable; retrying');
    this.reconnectTimer = setTimeout(() => {
      this.metrics.reconnects.inc();
      this.connect().catch((error) => this.scheduleReconnect(error));
    }, delayMs);
  }
}

/** Turns the SDK's open errors into messages that say what to fix. */
function describeOpenError(error: unknown, kind: Exclude<EdgeConnectionKind, 'none'>): Error {
  const message = error instanceof Error ? error.message : String(error);
  const name = error instanceof Error ? error.constructor.name : '';
  if (name === 'UnauthorizedError' || /not authori[sz]ed|bad username or password/i.test(message)) {
    const fix =
      kind === 'iotedge'
        ? 'the IoT Edge security daemon signed a token edgeHub refused: check the module identity and IOTEDGE_MODULEGENERATIONID'
        : 'check the SharedAccessKey, DeviceId and ModuleId in EdgeHubConnectionString / IotHubConnectionString';
    return new EdgeAuthenticationError(`edgeHub refused the module's credentials (${message}): ${fix}`);
  }
  return error instanceof Error ? error : new Error(message);
}

/** An IoT Hub message carrying JSON: content type and encoding set so IoT Hub routing can query the body. */
export function jsonMessage(body: unknown, properties: Record<string, string | number> = {}): Message {
  const message = new Message(JSON.stringify(body));
  message.contentType = 'application/json';
  message.contentEncoding = 'utf-8';
  for (const [key, value] of Object.entries(properties)) message.properties.add(key, String(value));
  return message;
}
