import { on } from 'node:events';
import { createServer } from 'node:http';
import { mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
// eslint-disable-next-line @nx/enforce-module-boundaries -- specs only: the real SDK against the emulated edgeHub (a tool); the library never imports it
import { EdgeHubEmulator, type JsonObject } from '@iev/edge-hub-emulator';
import { Backoff, env, formatIotEdgeLine } from '@iev/service-runtime';
import { waitUntil } from '@iev/testing';
import { Message } from 'azure-iot-device';
import pino from 'pino';
import { Registry } from 'prom-client';
import { EdgeModule, type EdgeModuleOptions } from './edge-module';

/**
 * EdgeModule with the real azure-iot-device SDK against the emulated edgeHub: MQTT over TLS, SAS tokens signed by
 * the workload API (on a unix socket, as iotedged serves it).
 */
const twinSpec = { label: env.string('label', 'none') };

/** A pino logger that keeps every line, parsed. */
function recordingLogger(level: pino.Level = 'info') {
  const lines: JsonObject[] = [];
  const logger = pino({ level }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { logger, lines };
}

/**
 * The twin requests the SDK's MQTT twin client holds a callback for, by request id (mqtt_twin_client.js): one whose
 * answer never reaches it stays there, with whatever awaits it, for as long as the connection.
 */
function pendingTwinRequests(edge: EdgeModule): string[] {
  const client = (edge as unknown as { client?: { _transport: { _twinClient: { _pendingTwinRequests: Record<string, unknown> } } } }).client;
  if (!client) throw new Error('the module is not connected');
  return Object.keys(client._transport._twinClient._pendingTwinRequests);
}

/** The first 'reported' event of a module whose patch satisfies the predicate. */
async function reportedWhere(hub: EdgeHubEmulator, moduleId: string, predicate: (patch: JsonObject) => boolean): Promise<JsonObject> {
  for await (const [id, patch] of on(hub.events, 'reported', { signal: AbortSignal.timeout(10_000) })) {
    if (id === moduleId && predicate(patch)) return patch;
  }
  throw new Error('no reported event');
}

describe('EdgeModule (real SDK, emulated edgeHub)', () => {
  let dir: string;
  let workloadSocket: string;
  let hub: EdgeHubEmulator;
  const modules: EdgeModule[] = [];
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'iev-edge-module-'));
    workloadSocket = join(dir, 'workload.sock');
    hub = await EdgeHubEmulator.start({
      stateDir: dir,
      workloadSocket,
      modules: [{ id: 'renewal' }, { id: 'removed', desired: { label: 'from-manifest' } }, { id: 'twins' }, { id: 'reports' }, { id: 'setup' }, { id: 'unreported' }, { id: 'shutdown' }, { id: 'stuck' }, { id: 'rejects' }, { id: 'masks' }, { id: 'away' }, { id: 'partly' }, { id: 'later', desired: { label: 'from-manifest' } }, { id: 'bare' }, { id: 'stale' }, { id: 'methods' }, { id: 'malformed' }, { id: 'garbled' }, { id: 'nulled' }, { id: 'empty' }, { id: 'reportsGarbled' }, { id: 'unacknowledged' }, { id: 'unanswered' }, { id: 'unslashed' }, { id: 'throws' }, { id: 'unlogged' }],
    });
  });

  afterEach(async () => {
    await Promise.all(modules.splice(0).map((edge) => edge.close()));
    process.env = { ...savedEnv };
  });

  afterAll(async () => {
    await hub?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Starts a module as IoT Edge would (IOTEDGE_* environment), with twin settings and fast retries. */
  function start(moduleId: string, options: Partial<EdgeModuleOptions<typeof twinSpec>> = {}, on: EdgeHubEmulator = hub): EdgeModule<typeof twinSpec> {
    Object.assign(process.env, on.moduleEnv(moduleId));
    const edge = EdgeModule.start<typeof twinSpec>({
      name: moduleId,
      logger: pino({ level: 'silent' }),
      backoff: new Backoff(100, 1000, 0),
      // A report left unanswered on a dropped connection gives up sooner.
      requestTimeoutMs: 3000,
      settings: { spec: twinSpec, startup: { label: 'none' }, apply: () => undefined },
      ...options,
    });
    if (!edge) throw new Error('EdgeModule did not see the IoT Edge environment');
    modules.push(edge);
    return edge;
  }

  it('rebuilds the connection when the SAS token cannot be renewed (the workload API away), a failure counted as unreachable, instead of crashing', async () => {
    const { logger, lines } = recordingLogger();
    // A renewal 6 s after each token instead of every 45 min: by then the idle keep-alive connection to the workload
    // API is gone (5 s), so the renewal dials its socket.
    const edge = start('renewal', { logger, tokenRenewal: { tokenValidTimeInSeconds: 7, tokenRenewalMarginInSeconds: 1 } });
    await waitUntil(() => edge.connected, 'the connection to edgeHub');
    // As while iotedged restarts: its workload socket is not there.
    renameSync(workloadSocket, `${workloadSocket}.away`);
    try {
      await waitUntil(() => !edge.connected, 'the module to give up the connection whose token it cannot renew', { timeoutMs: 10_000 });
      const renewalFailure = /^renewing the SAS token \(signed by the IoT Edge workload API\) failed \(.*ENOENT.*\); retrying in/;
      // Its socket not there is 'not reachable yet', as when the same happens at connect; not an unexplained failure.
      expect(lines).toContainEqual(expect.objectContaining({ msg: expect.stringMatching(renewalFailure), failure: 'unreachable' }));
    } finally {
      renameSync(`${workloadSocket}.away`, workloadSocket);
    }
    await waitUntil(() => edge.connected, 'the module to reconnect with a newly signed token', { timeoutMs: 10_000 });
  });

  it("names the workload API's refusal to sign and IOTEDGE_MODULEGENERATIONID for a module of another generation (its deployment changed, or the edge simulator started with another state dir), and keeps retrying", async () => {
    const { logger, lines } = recordingLogger();
    Object.assign(process.env, hub.moduleEnv('stale'), { IOTEDGE_MODULEGENERATIONID: 'generation-of-an-earlier-run' });
    const edge = EdgeModule.start<typeof twinSpec>({
      name: 'stale',
      logger,
      // The failure is logged at the first attempt and every tenth: retries 20-100 ms apart reach the tenth in about
      // a second, not the 7 s that 100-1000 ms took (past half the wait on a loaded machine).
      backoff: new Backoff(20, 100, 0),
      settings: { spec: twinSpec, startup: { label: 'none' }, apply: () => undefined },
    });
    if (!edge) throw new Error('EdgeModule did not see the IoT Edge environment');
    modules.push(edge);
    const refusal =
      /^the IoT Edge workload API at \S+ refused to sign the module's token \(404 Module not found: stale has generation \w+, not generation-of-an-earlier-run\): IOTEDGE_MODULEGENERATIONID/;
    await waitUntil(() => lines.filter(({ msg }) => refusal.test(String(msg))).length >= 2, 'the refusal, said and retried', { timeoutMs: 10_000 });
    expect(edge.connected).toBe(false);
  });

  it("names the workload API's refusal of the trust bundle as such, not as a token it would not sign nor as a TLS failure for the certificate its message names", async () => {
    const { logger, lines } = recordingLogger();
    // A workload API of its own, answering every request as one that cannot read its CA yet.
    const socket = join(dir, 'refusing-workload.sock');
    const workload = createServer((_request, response) => response.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'could not load the edge CA certificate' })));
    await new Promise<void>((resolve) => workload.listen(socket, resolve));
    try {
      Object.assign(process.env, hub.moduleEnv('stale'), { IOTEDGE_WORKLOADURI: `unix://${socket}` });
      const edge = EdgeModule.start<typeof twinSpec>({
        name: 'stale',
        logger,
        backoff: new Backoff(100, 1000, 0),
        settings: { spec: twinSpec, startup: { label: 'none' }, apply: () => undefined },
      });
      if (!edge) throw new Error('EdgeModule did not see the IoT Edge environment');
      modules.push(edge);
      await waitUntil(() => lines.some(({ msg }) => /retrying/.test(String(msg))), 'the failure, said');
      expect(lines.map(({ msg }) => msg)).toContainEqual(
        expect.stringMatching(/^the IoT Edge workload API at \S+ refused to give the trust bundle \(500 could not load the edge CA certificate\); retrying/),
      );
    } finally {
      await new Promise((resolve) => workload.close(resolve));
    }
  });

  describe('before its first connection (edgeHub starting after the module, the normal boot order)', () => {
    let bootDir: string;
    let bootHub: EdgeHubEmulator;
    beforeEach(async () => {
      bootDir = mkdtempSync(join(tmpdir(), 'iev-edge-boot-'));
      bootHub = await EdgeHubEmulator.start({ stateDir: bootDir, modules: [{ id: 'boot' }] });
      await bootHub.stopBroker(); // the workload API is up, edgeHub not yet
    });
    afterEach(async () => {
      await bootHub.stop();
      rmSync(bootDir, { recursive: true, force: true });
    });

    const levelOf = (lines: JsonObject[], level: number) => lines.filter((line) => line['level'] === level);
    const INFO = 30;
    const WARN = 40;

    it('says it waits once, at info, warns of nothing, and then connects; a connection lost after that warns', async () => {
      const { logger, lines } = recordingLogger();
      const edge = start('boot', { logger }, bootHub);
      await sleep(2000); // attempts 100 ms, 200 ms, ... apart: several fail
      await expect(edge.sendOutputEvent('out', new Message('x'))).rejects.toMatchObject({ name: 'EdgeNotConnectedError', awaitingFirstConnection: true });
      expect(levelOf(lines, WARN)).toEqual([]);
      expect(lines.filter(({ msg }) => /waiting for edgeHub's first connection/.test(String(msg)))).toHaveLength(1);

      await bootHub.startBroker();
      await waitUntil(() => edge.connected, 'the first connection', { timeoutMs: 10_000 });
      expect(levelOf(lines, WARN)).toEqual([]);

      await bootHub.stopBroker();
      await waitUntil(() => levelOf(lines, WARN).length > 0, 'a warning of the lost connection', { timeoutMs: 10_000 });
      expect(levelOf(lines, WARN)[0]).toMatchObject({ failure: 'unreachable', msg: expect.stringMatching(/^disconnected from edgeHub at /) });
      await expect(edge.sendOutputEvent('out', new Message('x'))).rejects.toMatchObject({ name: 'EdgeNotConnectedError', awaitingFirstConnection: false });
    });

    it('says the wait once at info also when another failure comes between (edgeHub not there, then not answering, then not there)', async () => {
      const { logger, lines } = recordingLogger('debug');
      const edge = start('boot', { logger, requestTimeoutMs: 1000 }, bootHub);
      const waitingLines = () => lines.filter(({ level, msg }) => level === INFO && /waiting for edgeHub's first connection/.test(String(msg)));
      await waitUntil(() => waitingLines().length > 0, 'the wait, said');

      bootHub.ignoreTwinRequests(); // edgeHub takes the connection but never answers the twin request
      await bootHub.startBroker();
      await waitUntil(() => levelOf(lines, WARN).some(({ failure }) => failure === 'timeout'), 'a warning of the twin request unanswered', { timeoutMs: 10_000 });

      await bootHub.stopBroker();
      const sinceStopped = lines.length;
      await waitUntil(() => lines.slice(sinceStopped).some(({ failure }) => failure === 'unreachable'), 'edgeHub found away again', { timeoutMs: 10_000 });
      expect(waitingLines()).toHaveLength(1);
      expect(edge.awaitingFirstConnection).toBe(true);
    }, 40_000);

    it('warns once the wait for the first connection outlasts firstConnectionGraceMs', async () => {
      const { logger, lines } = recordingLogger();
      const edge = start('boot', { logger, firstConnectionGraceMs: 1500 }, bootHub);
      await sleep(1000);
      expect(levelOf(lines, WARN)).toEqual([]);
      await waitUntil(() => levelOf(lines, WARN).length > 0, 'a warning once the grace is over', { timeoutMs: 5000 });
      expect(levelOf(lines, WARN)[0]).toMatchObject({ failure: 'unreachable', sinceStartMs: expect.any(Number) });
      expect(levelOf(lines, WARN)[0]['sinceStartMs']).toBeGreaterThanOrEqual(1500);
      await expect(edge.sendOutputEvent('out', new Message('x'))).rejects.toMatchObject({ awaitingFirstConnection: false });
    });

    it('measures the grace on a monotonic clock: the wall clock stepped back (NTP at a device boot) does not silence it', async () => {
      const { logger, lines } = recordingLogger();
      const edge = start('boot', { logger, firstConnectionGraceMs: 1500 }, bootHub);
      const wallClock = Date.now;
      const stepBackMs = 3_600_000;
      const stepped = jest.spyOn(Date, 'now').mockImplementation(() => wallClock() - stepBackMs);
      try {
        await waitUntil(() => levelOf(lines, WARN).length > 0, 'a warning once the grace is over', { timeoutMs: 5000 });
        expect(levelOf(lines, WARN)[0]['sinceStartMs']).toBeGreaterThanOrEqual(1500);
        expect(levelOf(lines, WARN)[0]['sinceStartMs']).toBeLessThan(stepBackMs);
        await expect(edge.sendOutputEvent('out', new Message('x'))).rejects.toMatchObject({ awaitingFirstConnection: false });
      } finally {
        stepped.mockRestore();
      }
    });
  });

  // The path a failed direct-method subscription takes too: the SDK reports it while the twin is awaited.
  it('takes a failure reported while the link is being set up (direct methods subscribed, twin not in yet) as a drop, and rebuilds the link', async () => {
    const { logger, lines } = recordingLogger();
    hub.ignoreTwinRequests();
    let edge: EdgeModule;
    try {
      edge = start('setup', { logger });
      await hub.waitForSubscription('setup', 'methods', 10_000);
      await hub.stopBroker();
    } finally {
      hub.ignoreTwinRequests(false);
    }
    await hub.startBroker();
    await waitUntil(() => edge.connected, 'the module to set up a new link', { timeoutMs: 10_000 });
    expect(lines).toContainEqual(expect.objectContaining({ msg: expect.stringMatching(/^disconnected from edgeHub at .*; retrying in/), failure: 'unreachable' }));
    await hub.waitForSubscription('setup', 'methods', 10_000);
    expect((await hub.invokeMethod('setup', 'getStatus', {}, 10_000)).status).toBe(200);
  });

  describe('direct methods', () => {
    /** A module with a method of its own besides getStatus, listening for direct methods. */
    async function startWithMethods(logger = pino({ level: 'silent' })): Promise<EdgeModule> {
      const edge = start('methods', { logger, methods: { ping: (payload) => ({ pong: payload }) } });
      await waitUntil(() => edge.connected, 'the connection to edgeHub', { timeoutMs: 10_000 });
      await hub.waitForSubscription('methods', 'methods', 10_000);
      return edge;
    }

    // The SDK alone drops such a call and its caller gets 504 after its timeout; the answer here relies on how the
    // SDK's transport dispatches calls (unregistered-methods.ts), so an SDK upgrade changing that fails this.
    it('answers a method it does not have at once with 501, naming it and the methods it has, and answers its own methods as before', async () => {
      const { logger, lines } = recordingLogger();
      await startWithMethods(logger);
      const started = performance.now();
      expect(await hub.invokeMethod('methods', 'getStatuss', {}, 5000)).toEqual({
        status: 501,
        payload: { error: 'methods has no direct method "getStatuss" (its methods: getStatus, ping)', method: 'getStatuss', methods: ['getStatus', 'ping'] },
      });
      expect(performance.now() - started).toBeLessThan(2000);
      expect(await hub.invokeMethod('methods', 'ping', { n: 1 }, 5000)).toEqual({ status: 200, payload: { pong: { n: 1 } } });
      expect(await hub.invokeMethod('methods', 'getStatus', {}, 5000)).toMatchObject({ status: 200, payload: { module: 'methods', connected: true } });
      expect(lines.filter(({ level }) => level === 40)).toEqual([]);
    });

    it("answers a method name with odd characters 501 too, naming it as the SDK reads it from the topic (a space URL-escaped, a name with a '/' read up to it)", async () => {
      await startWithMethods();
      const asked = ['gëtStätüs', '日本語', 'get.status+v2&x=1', '$edgeHub', 'get status'];
      const answers = await Promise.all(asked.map((name) => hub.invokeMethod('methods', name, {}, 5000)));
      expect(answers.map(({ status, payload }) => [status, (payload as JsonObject)['method']])).toEqual([
        [501, 'gëtStätüs'],
        [501, '日本語'],
        [501, 'get.status+v2&x=1'],
        [501, '$edgeHub'],
        [501, 'get%20status'],
      ]);
      // The SDK reads the name up to a '/', or a backslash, which its URL parser reads as a '/' (docs/iot-edge.md says so).
      expect(await hub.invokeMethod('methods', 'getStatus/x', {}, 5000)).toMatchObject({ status: 200, payload: { module: 'methods' } });
      expect(await hub.invokeMethod('methods', 'getStatus\\x', {}, 5000)).toMatchObject({ status: 200, payload: { module: 'methods' } });
    });

    // Echoed whole, twice, in JSON (a control character as \u0001, six bytes), this name made an answer of 360 kB,
    // over the 128 KB a direct method may carry: the hub answered its caller 400, not 501.
    it('answers a method name of any length 501, naming its first 200 characters and its length', async () => {
      await startWithMethods();
      const asked = '\u0001'.repeat(30_000);
      expect(await hub.invokeMethod('methods', asked, {}, 5000)).toMatchObject({ status: 501, payload: { method: `${'\u0001'.repeat(200)}… (30000 characters)` } });
    });

    it("says why a call whose method name holds a '?' or '#' goes unanswered (the SDK reads no request id in its topic), and answers the next call", async () => {
      const { logger, lines } = recordingLogger();
      await startWithMethods(logger);
      expect((await hub.invokeMethod('methods', 'get?status', {}, 1000)).status).toBe(504);
      expect(lines).toContainEqual(expect.objectContaining({ method: 'get?status', msg: expect.stringMatching(/^a call to the direct method "get\?status" came without a request id .*its caller gets 504/) }));
      // Read up to the '#'.
      expect((await hub.invokeMethod('methods', 'get#status', {}, 1000)).status).toBe(504);
      expect(lines).toContainEqual(expect.objectContaining({ method: 'get', msg: expect.stringMatching(/^a call to the direct method "get" came without a request id/) }));
      expect((await hub.invokeMethod('methods', 'getStatus', {}, 5000)).status).toBe(200);
    });

    // The SDK's topic parser threw on these out of its MQTT message handler ("Device method call's MQTT topic name does
    // not include the method name."), killing the module. The hook comes after the connection opened.
    it("answers 501 a method name the SDK reads no name from (empty, or starting with '/' or '#'), named as asked, with a warning", async () => {
      const { logger, lines } = recordingLogger();
      const edge = await startWithMethods(logger);
      const asked = ['/x', '', '//', '#x'];
      const answers = await Promise.all(asked.map((name) => hub.invokeMethod('methods', name, {}, 5000)));
      expect(answers.map(({ status, payload }) => [status, (payload as JsonObject)['method']])).toEqual(asked.map((name) => [501, name]));
      expect(lines).toContainEqual(expect.objectContaining({ level: 40, method: '/x', msg: expect.stringMatching(/^methods has no direct method "\/x" .*: the IoT SDK reads no method name from its topic$/) }));
      expect(edge.connected).toBe(true);
      expect((await hub.invokeMethod('methods', 'getStatus', {}, 5000)).status).toBe(200);
    });

    // The SDK's own handler of a method the module has throws on a call without a request id, out of its MQTT
    // message handler: the module process died of it (uncaught ReferenceError 'requestId must be a string').
    it("survives a call to a method it has that comes without a request id (read up to a '#', or a '/' before a '?'), logging it as unanswerable", async () => {
      const { logger, lines } = recordingLogger();
      const edge = await startWithMethods(logger);
      expect((await hub.invokeMethod('methods', 'getStatus#x', {}, 1000)).status).toBe(504);
      expect((await hub.invokeMethod('methods', 'ping/x?y', {}, 1000)).status).toBe(504);
      expect(lines).toContainEqual(expect.objectContaining({ method: 'getStatus', msg: expect.stringMatching(/^a call to the direct method "getStatus" came without a request id/) }));
      expect(lines).toContainEqual(expect.objectContaining({ method: 'ping', msg: expect.stringMatching(/^a call to the direct method "ping" came without a request id/) }));
      expect(edge.connected).toBe(true);
      expect(await hub.invokeMethod('methods', 'ping', { n: 2 }, 5000)).toEqual({ status: 200, payload: { pong: { n: 2 } } });
    });
  });

  it('reports what an apply that throws a value that is no Error threw, and applies the next patch', async () => {
    const applied: string[] = [];
    const apply = (_changes: unknown, next: { label: string }) => {
      if (next.label === 'bad') throw 'the camera said no';
      applied.push(next.label);
    };
    const edge = start('throws', { settings: { spec: twinSpec, startup: { label: 'none' }, apply } });
    await waitUntil(() => edge.connected, 'the connection to edgeHub', { timeoutMs: 10_000 });
    await hub.waitForSubscription('throws', 'desired', 10_000);
    const bad = await hub.patchDesired('throws', { label: 'bad' });
    const reported = await hub.waitForReported('throws', (r) => (r['lastDesired'] as JsonObject)?.['version'] === bad, 10_000);
    expect(reported['lastDesired']).toMatchObject({ status: 'rejected', error: 'the camera said no' });
    await hub.patchDesired('throws', { label: 'after' });
    await waitUntil(() => applied.includes('after'), 'the next patch applied');
  });

  it('applies the next patch after one whose handling threw (its log line could not be written), logging that', async () => {
    const lines: JsonObject[] = [];
    // A destination that fails one write, as a synchronous one on a full disk would.
    let failNext = false;
    const logger = pino({ level: 'info' }, {
      write: (line: string) => {
        const parsed = JSON.parse(line) as JsonObject;
        if (failNext && String(parsed['msg']).startsWith('twin desired values rejected')) {
          failNext = false;
          throw new Error('ENOSPC: no space left on device, write');
        }
        lines.push(parsed);
      },
    });
    const applied: string[] = [];
    const edge = start('unlogged', { logger, settings: { spec: twinSpec, startup: { label: 'none' }, apply: (_changes, next) => void applied.push(next.label) } });
    await waitUntil(() => edge.connected, 'the connection to edgeHub', { timeoutMs: 10_000 });
    await hub.waitForSubscription('unlogged', 'desired', 10_000);
    failNext = true;
    await hub.patchDesired('unlogged', { unknown: 'x' });
    await waitUntil(() => !failNext, 'the rejection logged (and failing)');
    await hub.patchDesired('unlogged', { label: 'after' });
    await waitUntil(() => applied.includes('after'), 'the next patch applied');
    expect(lines).toContainEqual(expect.objectContaining({ level: 50, msg: expect.stringMatching(/^handling a twin desired document failed \(ENOSPC: no space left on device, write\); later ones are still applied$/) }));
  });

  // The SDK parses a patch in its MQTT message listener (mqtt_twin_client.js, JSON.parse): one that is not JSON threw
  // there, uncaught, which ends a module's process; `null` passed it and failed the apply, every later patch with it.
  it('survives desired-properties patches that are not a JSON object, counting and logging each, and applies the next', async () => {
    const { logger, lines } = recordingLogger();
    const registry = new Registry();
    const applied: string[] = [];
    const edge = start('malformed', { logger, registry, settings: { spec: twinSpec, startup: { label: 'none' }, apply: (_changes, next) => void applied.push(next.label) } });
    await waitUntil(() => edge.connected, 'the connection to edgeHub', { timeoutMs: 10_000 });
    await hub.waitForSubscription('malformed', 'desired', 10_000);

    const malformed = ['{"label": "cut off', 'null', '[{"label": "x"}]', '42', `{"source": "rtsp://admin:secret@door.local/${'x'.repeat(300)}`];
    for (const payload of malformed) expect(await hub.sendRawDesiredPatch('malformed', payload)).toBe(true);
    const warnings = () => lines.filter(({ level }) => level === 40);
    await waitUntil(() => warnings().length === malformed.length, () => `a warning for each (${JSON.stringify(warnings())})`);
    const dropped = 'a desired-properties patch that is not a JSON object was dropped';
    expect(warnings().map(({ msg }) => msg)).toEqual([
      expect.stringMatching(new RegExp(`^${dropped} \\(not JSON: .+\\): \\{"label": "cut off$`)),
      `${dropped} (JSON, but null, not an object): null`,
      `${dropped} (JSON, but an array, not an object): [{"label": "x"}]`,
      `${dropped} (JSON, but a number, not an object): 42`,
      expect.stringMatching(new RegExp(`^${dropped} \\(not JSON: .+\\): \\{"source": "rtsp://admin:\\*\\*\\*@door.local/x+… \\(\\d+ characters\\)$`)),
    ]);
    expect(warnings()[0]).toMatchObject({ topic: '$iothub/twin/PATCH/properties/desired/?$version=1', bytes: 18 });
    expect((await registry.getSingleMetric('iev_malformed_iot_edge_twin_malformed_total')?.get())?.values[0]?.value).toBe(malformed.length);
    expect(edge.connected).toBe(true);

    await hub.patchDesired('malformed', { label: 'after' });
    await waitUntil(() => applied.includes('after'), 'the next patch applied');
  });

  // The SDK parses the answer to a twin request out of its MQTT message handler too (_onResponseMessage): it threw
  // there on one that is not JSON; and its twin read took the properties of `null`, or of an empty answer (none), and threw.
  it.each([
    ['garbled', '<html>502 Bad Gateway</html>', 'not JSON: .+'],
    ['nulled', 'null', 'JSON, but null, not an object'],
    ['empty', '', 'not JSON: .+'],
  ])('survives an answer to its twin read that is not a JSON object (%s), the read failed at once, and connects once the answers are whole again', async (moduleId, body, reason) => {
    const { logger, lines } = recordingLogger();
    const registry = new Registry();
    hub.garbleTwinAnswers(body);
    try {
      // Two reads fail well within one request timeout: neither waited for it.
      const edge = start(moduleId, { logger, registry, requestTimeoutMs: 15_000 });
      await waitUntil(() => lines.filter(({ msg }) => String(msg).startsWith('an answer to a twin request')).length >= 2, 'two twin answers dropped', { timeoutMs: 10_000 });
      expect(lines).toContainEqual(
        expect.objectContaining({
          level: 40,
          topic: expect.stringMatching(/^\$iothub\/twin\/res\/200\//),
          msg: expect.stringMatching(new RegExp(`^an answer to a twin request that is not a JSON object was dropped, the request failed \\(${reason}\\): ${body}$`)),
        }),
      );
      expect((await registry.getSingleMetric(`iev_${moduleId}_iot_edge_twin_malformed_total`)?.get())?.values[0]?.value).toBeGreaterThanOrEqual(2);
      expect(edge.connected).toBe(false);
      hub.garbleTwinAnswers(undefined);
      await waitUntil(() => edge.connected, 'the connection once the twin answers are whole', { timeoutMs: 15_000 });
    } finally {
      hub.garbleTwinAnswers(undefined);
    }
  });

  // Before, a garbled answer was dropped and its request left to time out: the SDK, which has no timeout of its own,
  // kept the request's callback (and what awaited it) for as long as the connection.
  it('fails each reported-properties update whose answer is not a JSON object at once, leaving none of them pending, and the next update goes through', async () => {
    const { logger, lines } = recordingLogger();
    const registry = new Registry();
    const edge = start('reportsGarbled', { logger, registry, requestTimeoutMs: 10_000 });
    // Both reports at connect, the one of the twin's first document (lastDesired) too: garbled, it made 21 under load.
    await waitUntil(() => edge.connected && hub.twin('reportsGarbled').reported['lastDesired'] !== undefined, 'the reports at connect', { timeoutMs: 10_000 });
    const garbled = 20;
    hub.garbleTwinAnswers('<html>502 Bad Gateway</html>', 'reported update');
    try {
      const started = performance.now();
      const updates = await Promise.allSettled(Array.from({ length: garbled }, (_, attempt) => edge.report({ attempt })));
      expect(performance.now() - started).toBeLessThan(5_000);
      expect(updates).toEqual(
        Array(garbled).fill({ status: 'rejected', reason: expect.objectContaining({ message: expect.stringMatching(/^edgeHub answered the twin request with no JSON object \(not JSON: .+\)$/) }) }),
      );
    } finally {
      hub.garbleTwinAnswers(undefined);
    }
    expect(pendingTwinRequests(edge)).toEqual([]);
    expect((await registry.getSingleMetric('iev_reportsGarbled_iot_edge_twin_malformed_total')?.get())?.values[0]?.value).toBe(garbled);
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 40,
        topic: expect.stringMatching(/^\$iothub\/twin\/res\/204\//),
        msg: expect.stringMatching(/^an answer to a twin request that is not a JSON object was dropped, the request failed \(not JSON: .+\): <html>502 Bad Gateway<\/html>$/),
      }),
    );
    expect(edge.connected).toBe(true);
    await edge.report({ attempt: 'after' });
    expect(hub.twin('reportsGarbled').reported).toMatchObject({ attempt: 'after' });
    expect(pendingTwinRequests(edge)).toEqual([]);
  });

  // Before, the module's timeout failed an update edgeHub never answered on a link that stayed up, but the SDK, which
  // has no timeout of its own, kept its callback and patch for as long as the connection: one more every report.
  it('takes a reported-properties update edgeHub never answers out of the SDK at its timeout, its patch kept for the next report', async () => {
    const edge = start('unanswered', { requestTimeoutMs: 1000 });
    // Both reports at connect, the one of the twin's first document (lastDesired) too, or it may be one left unanswered.
    await waitUntil(() => edge.connected && hub.twin('unanswered').reported['lastDesired'] !== undefined, 'the reports at connect', { timeoutMs: 10_000 });
    const unanswered = 10;
    const added = Array.from({ length: unanswered }, (_, camera) => `camera${camera}`);
    hub.ignoreTwinRequests(true, 'reported update');
    try {
      const updates = await Promise.allSettled(added.map((camera) => edge.report({ sources: { door: { fps: 1 }, [camera]: { fps: 2 } } })));
      expect(updates).toEqual(Array(unanswered).fill({ status: 'rejected', reason: expect.objectContaining({ name: 'TimeoutError', message: 'a reported properties update did not answer within 1000 ms' }) }));
      expect(pendingTwinRequests(edge)).toEqual([]);
    } finally {
      hub.ignoreTwinRequests(false, 'reported update');
    }
    expect(edge.connected).toBe(true);
    // edgeHub may have applied what it did not answer: each camera a timed-out update added is nulled by the next.
    const next = reportedWhere(hub, 'unanswered', (patch) => 'sources' in patch);
    await edge.report({ sources: { door: { fps: 1 } } });
    expect((await next)['sources']).toEqual({ door: { fps: 1 }, ...Object.fromEntries(added.map((camera) => [camera, null])) });
    expect(hub.twin('unanswered').reported['sources']).toEqual({ door: { fps: 1 } });
    expect(pendingTwinRequests(edge)).toEqual([]);
  });

  // The SDK merges a reported update into its copy of the reported document only once edgeHub acknowledges it, and the
  // next report's nulls come from that copy: a camera reported in an update edgeHub applied but answered garbled was
  // never nulled by a later report once removed, in the twin for as long as the connection.
  it('removes from the twin a key reported in an update that failed though edgeHub applied it, with the next report', async () => {
    const edge = start('unacknowledged');
    await waitUntil(() => edge.connected && hub.twin('unacknowledged').reported['version'] !== undefined, 'the report at connect', { timeoutMs: 10_000 });
    await edge.report({ sources: { door: { fps: 1 } } });
    hub.garbleTwinAnswers('<html>502 Bad Gateway</html>', 'reported update');
    try {
      await expect(edge.report({ sources: { door: { fps: 1 }, gate: { fps: 2 } } })).rejects.toThrow(/no JSON object/);
    } finally {
      hub.garbleTwinAnswers(undefined);
    }
    expect(hub.twin('unacknowledged').reported['sources']).toEqual({ door: { fps: 1 }, gate: { fps: 2 } });
    await edge.report({ sources: { door: { fps: 1 } } });
    expect(hub.twin('unacknowledged').reported['sources']).toEqual({ door: { fps: 1 } });
  });

  // The SDK reads as a patch every message on a topic that starts with $iothub/twin/PATCH/properties/desired, and the
  // module's subscription (desired/#) takes that topic itself, without the '/'.
  it('drops a desired-properties patch that is not JSON on the desired topic without its trailing slash', async () => {
    const { logger, lines } = recordingLogger();
    const applied: string[] = [];
    const edge = start('unslashed', { logger, settings: { spec: twinSpec, startup: { label: 'none' }, apply: (_changes, next) => void applied.push(next.label) } });
    await waitUntil(() => edge.connected, 'the connection to edgeHub', { timeoutMs: 10_000 });
    await hub.waitForSubscription('unslashed', 'desired', 10_000);
    expect(await hub.sendRawDesiredPatch('unslashed', '{"label": "cut off', '$iothub/twin/PATCH/properties/desired')).toBe(true);
    await waitUntil(() => lines.some(({ level }) => level === 40), 'the warning');
    expect(lines).toContainEqual(expect.objectContaining({ topic: '$iothub/twin/PATCH/properties/desired', msg: expect.stringMatching(/^a desired-properties patch that is not a JSON object was dropped/) }));
    await hub.patchDesired('unslashed', { label: 'after' });
    await waitUntil(() => applied.includes('after'), 'the next patch applied');
  });

  it('returns a property removed while it was disconnected to its start-up value when it reconnects, applying only the first whole document as start-up configuration', async () => {
    const applied: Array<[string, boolean]> = [];
    const apply = (_changes: unknown, next: { label: string }, { startup }: { startup: boolean }) => void applied.push([next.label, startup]);
    const edge = start('removed', { settings: { spec: twinSpec, startup: { label: 'none' }, apply } });
    await hub.waitForReported('removed', (r) => (r['settings'] as JsonObject)?.['label'] === 'from-manifest', 10_000);
    // Answered once the module has the answer to that report, which a dropped connection would leave pending.
    expect((await hub.invokeMethod('removed', 'getStatus', {}, 10_000)).status).toBe(200);
    await hub.stopBroker();
    await waitUntil(() => !edge.connected, 'the module to notice the outage');
    const version = await hub.patchDesired('removed', { label: null });
    await hub.startBroker();
    const reported = await hub.waitForReported('removed', (r) => (r['lastDesired'] as JsonObject)?.['version'] === version, 10_000);
    expect(reported['settings']).toEqual({ label: 'none' });
    expect(edge.currentSettings()).toEqual({ label: 'none' });
    const patched = await hub.patchDesired('removed', { label: 'patched' });
    await hub.waitForReported('removed', (r) => (r['lastDesired'] as JsonObject)?.['version'] === patched, 10_000);
    // The document at the reconnect may hold a patch refused before: not start-up configuration.
    expect(applied).toEqual([
      ['from-manifest', true],
      ['none', false],
      ['patched', false],
    ]);
  });

  it('applies the good values of patches sent while it was disconnected, reports what it refused, and names every refused property in its IoT Edge log line', async () => {
    // As under IoT Edge: the log lines as the runtime's format writes them (LOG_FORMAT=iotedge, its default there).
    const iotEdgeLines: string[] = [];
    const logger = pino({ level: 'info', timestamp: pino.stdTimeFunctions.isoTime }, { write: (line: string) => iotEdgeLines.push(formatIotEdgeLine(line)) });
    const spec = { ...twinSpec, count: env.integer('count', { min: 1, max: 10 }, 1), mode: env.oneOf('mode', ['fast', 'slow'] as const, 'fast') };
    Object.assign(process.env, hub.moduleEnv('away'));
    const edge = EdgeModule.start<typeof spec>({
      name: 'away',
      logger,
      backoff: new Backoff(100, 1000, 0),
      requestTimeoutMs: 3000,
      settings: { spec, startup: { label: 'none', count: 1, mode: 'fast' }, apply: () => undefined },
    });
    if (!edge) throw new Error('EdgeModule did not see the IoT Edge environment');
    modules.push(edge);
    await hub.waitForReported('away', (r) => (r['lastDesired'] as JsonObject)?.['status'] === 'applied', 10_000);
    // Answered once the module has the answer to that report, which a dropped connection would leave pending.
    expect((await hub.invokeMethod('away', 'getStatus', {}, 10_000)).status).toBe(200);
    await hub.stopBroker();
    await waitUntil(() => !edge.connected, 'the module to notice the outage');
    // Merged in the twin as IoT Hub merges them: count's 3 is overwritten by a bad value, label's last good value stays.
    await hub.patchDesired('away', { label: 'first', count: 3 });
    await hub.patchDesired('away', { label: 'second' });
    const version = await hub.patchDesired('away', { count: 'y'.repeat(300), mode: 'z'.repeat(300), colour: 'red' });
    await hub.startBroker();
    const reported = await hub.waitForReported('away', (r) => (r['lastDesired'] as JsonObject)?.['version'] === version, 10_000);

    expect(reported['settings']).toEqual({ label: 'second', count: 1, mode: 'fast' });
    const { status, error } = reported['lastDesired'] as { status: string; error: string };
    expect(status).toBe('rejected');
    expect(error).toMatch(/^count must be an integer from 1 to 10 \(got "y+…\); mode must be one of fast, slow \(got "z+…\); colour is not a setting of this module/);
    const rejected = iotEdgeLines.filter((line) => line.includes('twin desired values rejected'));
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toMatch(/^<4> .* \[WRN\] - twin desired values rejected.*\bcount must be .*\bmode must be .*\bcolour is not a setting/);
  });

  it('reports the settings apply put into effect, and what it refused, where it applied part of a patch', async () => {
    // As inference opens the cameras it can of a patch: here the labels it can open.
    const apply = (_changes: unknown, next: { label: string }) => {
      const labels = next.label.split(',');
      if (!labels.includes('missing')) return undefined;
      return { settings: { label: labels.filter((label) => label !== 'missing').join(',') }, refused: ['label: missing cannot be opened'] };
    };
    start('partly', { settings: { spec: twinSpec, startup: { label: 'none' }, apply } });
    await hub.waitForReported('partly', (r) => (r['lastDesired'] as JsonObject)?.['status'] === 'applied', 10_000);
    const version = await hub.patchDesired('partly', { label: 'door,missing' });
    const reported = await hub.waitForReported('partly', (r) => (r['lastDesired'] as JsonObject)?.['version'] === version, 10_000);

    expect(reported['settings']).toEqual({ label: 'door' });
    expect(reported['lastDesired']).toEqual({ version, status: 'rejected', error: 'label: missing cannot be opened' });
  });

  it('keeps backing off while another process with the same module identity takes the connection at once', async () => {
    const retryDelays = (lines: JsonObject[]) => lines.flatMap((line) => (typeof line['retryInMs'] === 'number' ? [line['retryInMs']] : []));
    const first = recordingLogger();
    const second = recordingLogger();
    // Each connection edgeHub accepts for one ends the other's.
    start('twins', { logger: first.logger, backoff: new Backoff(100, 10_000, 0) });
    start('twins', { logger: second.logger, backoff: new Backoff(100, 10_000, 0) });
    await waitUntil(() => retryDelays(first.lines).length >= 4, () => `four retries (${JSON.stringify(retryDelays(first.lines))})`, { timeoutMs: 15_000 });
    // Never reset, each delay doubles (a failure like the one before is logged only every tenth time, so a step may be
    // missing here): each logged delay is longer than the one before.
    const delays = retryDelays(first.lines);
    expect(delays).toEqual([...new Set(delays)].sort((a, b) => a - b));
  });

  it('sends settings and lastDesired with every periodic report, so one that failed after a patch is made good', async () => {
    const edge = start('reports', { reported: () => ({ fps: 12.5 }), reportIntervalMs: 200 });
    await waitUntil(() => edge.connected, 'the connection to edgeHub');
    await hub.waitForSubscription('reports', 'desired', 10_000);
    const version = await hub.patchDesired('reports', { label: 'patched' });
    await hub.waitForReported('reports', (r) => (r['lastDesired'] as JsonObject)?.['version'] === version, 10_000);
    // The periodic report: the module's own properties, without the version sent at connect.
    const periodic = await reportedWhere(hub, 'reports', (patch) => 'fps' in patch && !('version' in patch));
    expect(periodic).toEqual({ fps: 12.5, settings: { label: 'patched' }, lastDesired: { version, status: 'applied', error: null } });
  });

  it("masks a camera URL's password in what it logs of a patch, reports and tells of its settings, and in a failure it reports", async () => {
    const { logger, lines } = recordingLogger();
    const apply = (_changes: unknown, next: { label: string }) => {
      if (next.label.includes('ch2')) throw new Error(`cannot open ${next.label}`);
    };
    const edge = start('masks', { logger, settings: { spec: twinSpec, startup: { label: 'none' }, apply } });
    await waitUntil(() => edge.connected, 'the connection to edgeHub');
    await hub.waitForSubscription('masks', 'desired', 10_000);
    const applied = await hub.patchDesired('masks', { label: 'rtsp://admin:secret@cam/ch1' });
    await hub.waitForReported('masks', (r) => (r['lastDesired'] as JsonObject)?.['version'] === applied, 10_000);
    const rejected = await hub.patchDesired('masks', { label: 'rtsp://admin:hidden@cam/ch2' });
    const reported = await hub.waitForReported('masks', (r) => (r['lastDesired'] as JsonObject)?.['version'] === rejected, 10_000);

    expect(lines).toContainEqual(expect.objectContaining({ msg: 'twin settings applied', changes: { label: 'rtsp://admin:***@cam/ch1' } }));
    expect((reported['lastDesired'] as JsonObject)['error']).toBe('cannot open rtsp://admin:***@cam/ch2');
    expect(reported['settings']).toEqual({ label: 'rtsp://admin:***@cam/ch1' });
    expect(edge.status()['settings']).toEqual({ label: 'rtsp://admin:***@cam/ch1' });
    expect(edge.currentSettings()).toEqual({ label: 'rtsp://admin:secret@cam/ch1' });
    expect(JSON.stringify(lines)).not.toMatch(/secret|hidden/);
  });

  it("reports a long rejection cut to 1 KB, which edgeHub takes (it refuses a reported string over 4 KB, and the report with it)", async () => {
    const edge = start('rejects');
    await waitUntil(() => edge.connected, 'the connection to edgeHub');
    await hub.waitForSubscription('rejects', 'desired', 10_000);
    const unknown = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`setting${i}`, 'x']));
    const version = await hub.patchDesired('rejects', { label: { text: 'y'.repeat(6000) }, ...unknown });
    const reported = await hub.waitForReported('rejects', (r) => (r['lastDesired'] as JsonObject)?.['version'] === version, 10_000);
    const { status, error } = reported['lastDesired'] as { status: string; error: string };
    expect(status).toBe('rejected');
    expect(error).toMatch(/^label must be a string \(got \{"text":"y{80,}…\); setting0 is not a setting of this module/);
    expect(Buffer.byteLength(error)).toBeLessThanOrEqual(1024);
    expect(error.endsWith('…')).toBe(true);
  });

  it('stays connected and keeps reporting version and settings when its own `reported` throws, logging that once', async () => {
    const { logger, lines } = recordingLogger();
    const edge = start('unreported', {
      logger,
      reported: () => {
        throw new Error('the model worker is down');
      },
      reportIntervalMs: 100,
    });
    await hub.waitForReported('unreported', (r) => 'version' in r && 'settings' in r, 10_000);
    // A few periodic reports, each without the module's own part: a throw in the report timer would crash the process.
    for (let count = 0; count < 3; count += 1) {
      const periodic = await reportedWhere(hub, 'unreported', (patch) => 'lastDesired' in patch && !('version' in patch));
      expect(periodic).toEqual({ settings: { label: 'none' }, lastDesired: expect.objectContaining({ status: 'applied' }) });
    }
    expect(edge.connected).toBe(true);
    const logged = lines.filter((line) => String(line['msg']).includes('the model worker is down'));
    expect(logged).toHaveLength(1);
  });

  it("says when the desired document at start-up has been applied, not before edgeHub is there and the apply done, nor where the twin sets nothing", async () => {
    const applied: Array<[string, boolean]> = [];
    const apply = async (_changes: unknown, next: { label: string }, { startup }: { startup: boolean }) => {
      // As a camera added, its decoder started.
      await sleep(300);
      applied.push([next.label, startup]);
    };
    let startupApplied = false;
    await hub.stopBroker();
    try {
      const edge = start('later', { settings: { spec: twinSpec, startup: { label: 'none' }, apply } });
      void edge.startupApplied.then(() => (startupApplied = true));
      await sleep(1500);
      expect(startupApplied).toBe(false);
    } finally {
      await hub.startBroker();
    }
    await waitUntil(() => startupApplied, 'the start-up document applied', { timeoutMs: 10_000 });
    expect(applied).toEqual([['from-manifest', true]]);

    await start('bare').startupApplied;
  });

  it('waits in close() for the twin patch being applied, and applies no patch queued behind it', async () => {
    const applied: Array<string | undefined> = [];
    let applying: string | undefined;
    const apply = async (changes: { label?: string }) => {
      applying = changes.label;
      // As a preset switch loading a model.
      await sleep(1000);
      applied.push(changes.label);
    };
    const edge = start('shutdown', { settings: { spec: twinSpec, startup: { label: 'none' }, apply } });
    await hub.waitForSubscription('shutdown', 'desired', 10_000);
    await hub.patchDesired('shutdown', { label: 'first' });
    await waitUntil(() => applying === 'first', 'the first patch to be applied');
    await hub.patchDesired('shutdown', { label: 'second' });
    // Over loopback it reaches the module long before the first patch's second is up.
    await sleep(200);
    await edge.close();
    expect(applied).toEqual(['first']);
    // Had the second been applied after all, it would have finished by now.
    await sleep(1500);
    expect(applied).toEqual(['first']);
  });

  it('closes all the same, and says so, when the patch being applied outlasts applyOnCloseTimeoutMs', async () => {
    const { logger, lines } = recordingLogger();
    let applying = false;
    const apply = () => {
      applying = true;
      return new Promise<void>(() => undefined);
    };
    const edge = start('stuck', { logger, applyOnCloseTimeoutMs: 200, settings: { spec: twinSpec, startup: { label: 'none' }, apply } });
    await hub.waitForSubscription('stuck', 'desired', 10_000);
    await hub.patchDesired('stuck', { label: 'stuck' });
    await waitUntil(() => applying, 'the patch to be applied');
    await edge.close();
    expect(edge.connected).toBe(false);
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'closing the IoT Edge connection while a twin patch may still be applied' }));
  });
});
