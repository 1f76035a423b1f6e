import { spawn } from 'node:child_process';
import { on, once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@iev/testing';
import { NoRetry, SharedAccessSignature } from 'azure-iot-common';
import { Message, ModuleClient, type Twin } from 'azure-iot-device';
import { Mqtt } from 'azure-iot-device-mqtt';
import pino from 'pino';
import { EdgeHubEmulator, MAX_MESSAGE_BYTES } from './edge-hub-emulator';

// Everything here goes through the real SDK over TLS: fromEnvironment (workload API + SAS tokens it signs) and
// fromConnectionString, against the in-process broker.

const ENV_KEYS = ['EdgeHubConnectionString', 'IotHubConnectionString', 'IOTEDGE_WORKLOADURI', 'IOTEDGE_DEVICEID', 'IOTEDGE_MODULEID',
  'IOTEDGE_IOTHUBHOSTNAME', 'IOTEDGE_AUTHSCHEME', 'IOTEDGE_MODULEGENERATIONID', 'IOTEDGE_GATEWAYHOSTNAME'];

/** ModuleClient.fromEnvironment with the module's IoT Edge env, process.env restored afterwards. */
async function fromEnvironment(env: Record<string, string>): Promise<ModuleClient> {
  const saved = Object.fromEntries(ENV_KEYS.map((key) => [key, process.env[key]]));
  for (const key of ENV_KEYS) delete process.env[key];
  Object.assign(process.env, env);
  try {
    return await ModuleClient.fromEnvironment(Mqtt);
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

async function fromConnectionString(hub: EdgeHubEmulator, moduleId: string, options: { wrongKey?: boolean } = {}): Promise<ModuleClient> {
  const client = ModuleClient.fromConnectionString(hub.connectionString(moduleId, options), Mqtt);
  await client.setOptions({ ca: hub.caPem });
  return client;
}

function nextEvent<T extends unknown[]>(emitter: NodeJS.EventEmitter, event: string, timeoutMs = 5000): Promise<T> {
  return once(emitter, event, { signal: AbortSignal.timeout(timeoutMs) }) as Promise<T>;
}

/** The first of an emitter's events whose arguments satisfy the predicate. */
async function eventWhere<T extends unknown[]>(emitter: NodeJS.EventEmitter, event: string, predicate: (...args: T) => boolean, timeoutMs = 5000): Promise<T> {
  for await (const args of on(emitter, event, { signal: AbortSignal.timeout(timeoutMs) })) {
    if (predicate(...(args as T))) return args as T;
  }
  throw new Error(`no ${event} event`);
}

const OUTAGE_MS = 2000;

/** undefined when the hub accepted the patch (2xx); else the SDK's error, with the hub's message. */
function reportPatch(twin: Twin, patch: Record<string, unknown>): Promise<Error | undefined> {
  return new Promise((resolve) => twin.properties.reported.update(patch, (err?: Error) => resolve(err ?? undefined)));
}

describe('EdgeHubEmulator with the real SDK', () => {
  let hub: EdgeHubEmulator;
  let a: ModuleClient;
  let b: ModuleClient;
  const opened: ModuleClient[] = [];

  beforeAll(async () => {
    hub = await EdgeHubEmulator.start({
      modules: [
        { id: 'a', desired: { fps: 15, region: { x: 1, y: 2 } } },
        { id: 'b' },
        { id: 'c' },
      ],
      routes: {
        detectionsUp: 'FROM /messages/modules/a/outputs/detections INTO $upstream',
        aToB: 'FROM /messages/modules/a/outputs/forward INTO BrokeredEndpoint("/modules/b/inputs/in1")',
        hotFromB: "FROM /messages/modules/b/* WHERE level = 'hot' INTO $upstream",
      },
      methodTimeoutMs: 1000,
    });
    a = await fromEnvironment(hub.moduleEnv('a'));
    b = await fromConnectionString(hub, 'b');
    opened.push(a, b);
    await Promise.all([a.open(), b.open()]);
    b.on('inputMessage', () => undefined);
    await hub.waitForSubscription('b', 'inputs', 5000);
  });

  afterAll(async () => {
    await Promise.all(opened.map((client) => client.close().catch(() => undefined)));
    await hub?.stop();
  });

  it('gives a module the IoT Edge env, with the gateway port in IOTEDGE_GATEWAYHOSTNAME', () => {
    expect(hub.moduleEnv('a')).toEqual({
      IOTEDGE_WORKLOADURI: `http://127.0.0.1:${hub.workloadPort}/`,
      IOTEDGE_DEVICEID: 'sim-device',
      IOTEDGE_MODULEID: 'a',
      IOTEDGE_IOTHUBHOSTNAME: 'sim-hub.azure-devices.net',
      IOTEDGE_AUTHSCHEME: 'sasToken',
      IOTEDGE_MODULEGENERATIONID: expect.any(String),
      IOTEDGE_GATEWAYHOSTNAME: `127.0.0.1:${hub.port}`,
    });
    expect(hub.port).not.toBe(8883);
    expect(hub.connectedModules().sort()).toEqual(['a', 'b']);
  });

  it('collects output events routed to $upstream with output name, content type/encoding and properties', async () => {
    const message = new Message(JSON.stringify({ text: 'EXIT', score: 0.9 }));
    message.contentType = 'application/json';
    message.contentEncoding = 'utf-8';
    message.properties.add('frame', '42');
    message.properties.add('odd key', 'a&b=c/d');
    await a.sendOutputEvent('detections', message);
    await a.sendOutputEvent('forward', new Message('not upstream'));

    const [received] = await hub.waitForUpstream(1, 5000);
    expect(received).toMatchObject({
      moduleId: 'a',
      outputName: 'detections',
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      properties: { frame: '42', 'odd key': 'a&b=c/d' },
    });
    expect(JSON.parse(received.body.toString())).toEqual({ text: 'EXIT', score: 0.9 });
    expect(received.receivedAt).toBeLessThanOrEqual(Date.now());
  });

  it('delivers a BrokeredEndpoint route to the module input, and applies WHERE conditions', async () => {
    const input = eventWhere<[string, Message]>(b, 'inputMessage', (_name, m) => m.getBytes().toString() === 'frame 7');
    const message = new Message('frame 7');
    message.properties.add('level', 'hot');
    await a.sendOutputEvent('forward', message);
    const [inputName, delivered] = await input;
    expect(inputName).toBe('in1');
    expect(delivered.properties.getValue('level')).toBe('hot');
    expect(delivered.properties.getValue('$.cmid')).toBe('a');

    const before = hub.upstreamMessages().length;
    const cold = new Message('cold');
    cold.properties.add('level', 'cold');
    await b.sendOutputEvent('out', cold);
    const hot = new Message('hot');
    hot.properties.add('level', 'hot');
    await b.sendOutputEvent('out', hot);
    const all = await hub.waitForUpstream(before + 1, 5000);
    expect(all.slice(before).map((m) => m.body.toString())).toEqual(['hot']);
  });

  describe('twin', () => {
    let twin: Twin;
    beforeAll(async () => {
      twin = await a.getTwin();
    });

    it("returns the deployment's desired properties", () => {
      expect(twin.properties.desired).toMatchObject({ fps: 15, region: { x: 1, y: 2 }, $version: 1 });
    });

    it('pushes a desired patch to the module', async () => {
      // Registering the handler replays the current desired properties, then subscribes for patches.
      const patched = eventWhere<[Record<string, unknown>]>(twin, 'properties.desired', (delta) => delta['$version'] === 2);
      await hub.waitForSubscription('a', 'desired', 5000);
      const version = await hub.patchDesired('a', { fps: 5, region: { y: null } });
      expect(version).toBe(2);
      const [delta] = await patched;
      expect(delta).toMatchObject({ fps: 5, region: { y: null }, $version: 2 });
      expect(hub.twin('a').desired).toEqual({ fps: 5, region: { x: 1 } });
    });

    it('stores reported properties, merge-patch style', async () => {
      const update = (patch: Record<string, unknown>) =>
        new Promise<void>((resolve, reject) => twin.properties.reported.update(patch, (err?: Error) => (err ? reject(err) : resolve())));
      await update({ fps: 5, state: { running: true, source: 'demo' } });
      await update({ state: { source: null } });
      expect(hub.twin('a').reported).toEqual({ fps: 5, state: { running: true } });
      await expect(hub.waitForReported('a', (reported) => reported['fps'] === 5, 1000)).resolves.toMatchObject({ fps: 5 });
      await expect(hub.waitForReported('a', (reported) => reported['fps'] === 6, 100)).rejects.toThrow(/timed out after 100 ms waiting for reported properties of a/);
    });
  });

  describe('direct methods', () => {
    it('round-trips through onMethod', async () => {
      a.onMethod('echo', (request, response) => {
        void response?.send(200, { got: request?.payload });
      });
      await hub.waitForSubscription('a', 'methods', 5000);
      await expect(hub.invokeMethod('a', 'echo', { x: 1 })).resolves.toEqual({ status: 200, payload: { got: { x: 1 } } });
    });

    it('answers 504 when the module does not answer in time, 404 when it does not listen', async () => {
      a.onMethod('silent', () => undefined);
      await expect(hub.invokeMethod('a', 'silent', undefined, 300)).resolves.toMatchObject({ status: 504 });
      await expect(hub.invokeMethod('c', 'echo')).resolves.toMatchObject({ status: 404 });
    });
  });

  it('rejects a module with the wrong key (CONNACK not authorized), and the SDK says so', async () => {
    const rejected = nextEvent<[string, string]>(hub.events, 'rejected');
    const client = await fromConnectionString(hub, 'c', { wrongKey: true });
    const error = await client.open().then(
      () => undefined,
      (err: Error) => err,
    );
    expect(error?.name).toBe('UnauthorizedError');
    expect(error?.message).toBe('mqtt.js returned Failure on first connection (Not authorized): Connection refused: Not authorized error');
    expect((await rejected)[1]).toBe("the token's signature does not match the module's key");
    await client.close().catch(() => undefined);
  });

  it('refuses to sign for an unknown module or generation (workload API 404)', async () => {
    const url = (moduleId: string, generation: string) =>
      `http://127.0.0.1:${hub.workloadPort}/modules/${moduleId}/genid/${generation}/sign?api-version=2018-06-28`;
    const body = JSON.stringify({ keyId: 'primary', algo: 'HMACSHA256', data: Buffer.from('x').toString('base64') });
    const unknown = await fetch(url('nope', '1'), { method: 'POST', body });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { message: string }).message).toMatch(/nope is not in the deployment/);
    const stale = await fetch(url('a', 'stale'), { method: 'POST', body });
    expect(stale.status).toBe(404);
    const trust = await fetch(`http://127.0.0.1:${hub.workloadPort}/trust-bundle?api-version=2018-06-28`);
    expect(await trust.json()).toEqual({ certificate: hub.caPem });
  });
});

describe('EdgeHubEmulator broker outage', () => {
  // Own hub and clients: a client with two SDK retry loops (say onMethod and a desired-properties listener) can
  // leave one loop's backoff timer pending after reconnecting, which then reconnects a closed client. One feature
  // per client here, so every loop ends when the connection is back.
  let hub: EdgeHubEmulator;
  let sender: ModuleClient;
  let receiver: ModuleClient;

  beforeAll(async () => {
    hub = await EdgeHubEmulator.start({ modules: [{ id: 'sender' }, { id: 'receiver' }], routes: { r: 'FROM /messages/modules/sender/* INTO BrokeredEndpoint("/modules/receiver/inputs/in")' } });
    sender = await fromEnvironment(hub.moduleEnv('sender'));
    receiver = await fromConnectionString(hub, 'receiver');
    await Promise.all([sender.open(), receiver.open()]);
    sender.onMethod('ping', (_request, response) => void response?.send(200, 'pong'));
    receiver.on('inputMessage', () => undefined);
    await Promise.all([hub.waitForSubscription('sender', 'methods', 5000), hub.waitForSubscription('receiver', 'inputs', 5000)]);
  });

  afterAll(async () => {
    await Promise.all([sender, receiver].map((client) => client?.close().catch(() => undefined)));
    await hub?.stop();
  });

  it('drops every client on stopBroker; they reconnect by themselves after startBroker, on the same port', async () => {
    const port = hub.port;
    const allDown = eventWhere(hub.events, 'disconnected', () => hub.connectedModules().length === 0);
    await hub.stopBroker();
    await allDown;
    // An outage of a couple of seconds, so the SDK's retries back off as they would in a real one.
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));

    const started = Date.now();
    await hub.startBroker();
    expect(hub.port).toBe(port);
    await eventWhere(hub.events, 'connected', () => hub.connectedModules().length === 2, 15_000);
    // Reported so the SDK's retry timing is visible in the test output.
    process.stdout.write(`reconnect after a ${OUTAGE_MS} ms outage: ${Date.now() - started} ms after startBroker\n`);

    // Methods and inputs work again without the modules doing anything.
    await expect(hub.invokeMethod('sender', 'ping')).resolves.toEqual({ status: 200, payload: 'pong' });
    const input = eventWhere<[string, Message]>(receiver, 'inputMessage', (_name, m) => m.getBytes().toString() === 'after outage');
    await sender.sendEvent(new Message('after outage'));
    await input;
  });

  it("keeps messages for a module's input while it is away (persistent MQTT session)", async () => {
    const away = eventWhere(hub.events, 'disconnected', (moduleId) => moduleId === 'receiver');
    await receiver.close();
    await away;
    await sender.sendEvent(new Message('while away'));
    const input = eventWhere<[string, Message]>(receiver, 'inputMessage', (_name, m) => m.getBytes().toString() === 'while away');
    await receiver.open();
    await input;
  });
});

describe('EdgeHubEmulator workload API on a unix socket', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'edge-hub-socket-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const trustBundleOver = (socketPath: string) =>
    new Promise<number>((resolve, reject) => {
      const request = httpGet({ socketPath, path: '/trust-bundle?api-version=2018-06-28' }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      request.on('error', reject);
    });

  it('refuses a socket another emulator listens on (EADDRINUSE), which keeps working', async () => {
    const socketPath = join(dir, 'workload.sock');
    const first = await EdgeHubEmulator.start({ modules: [{ id: 'm' }], workloadSocket: socketPath });
    try {
      await expect(EdgeHubEmulator.start({ modules: [{ id: 'm' }], workloadSocket: socketPath })).rejects.toMatchObject({ code: 'EADDRINUSE' });
      expect(await trustBundleOver(socketPath)).toBe(200);
    } finally {
      await first.stop();
    }
  });

  it('refuses a path that is not a socket, and leaves the file alone', async () => {
    const socketPath = join(dir, 'notes.txt');
    writeFileSync(socketPath, 'mine');
    await expect(EdgeHubEmulator.start({ modules: [{ id: 'm' }], workloadSocket: socketPath })).rejects.toThrow(/exists and is not a socket/);
    expect(readFileSync(socketPath, 'utf8')).toBe('mine');
  });

  it('replaces a stale socket left by a process that was killed', async () => {
    const socketPath = join(dir, 'workload.sock');
    const holder = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(socketPath)}, () => console.log('up'))`]);
    await once(holder.stdout, 'data');
    holder.kill('SIGKILL');
    await once(holder, 'exit');
    expect(existsSync(socketPath)).toBe(true);
    const hub = await EdgeHubEmulator.start({ modules: [{ id: 'm' }], workloadSocket: socketPath });
    try {
      expect(await trustBundleOver(socketPath)).toBe(200);
    } finally {
      await hub.stop();
    }
  });

  it('closes the TCP workload listener when the unix socket cannot listen', async () => {
    const workloadPort = await freePort();
    await expect(EdgeHubEmulator.start({ modules: [{ id: 'm' }], workloadPort, workloadSocket: join(dir, 'no-such-dir', 'workload.sock') })).rejects.toThrow(/^listen E/);
    const again = createServer();
    await new Promise<void>((resolve, reject) => again.once('error', reject).listen(workloadPort, '127.0.0.1', resolve));
    await new Promise((resolve) => again.close(resolve));
  });

  it('serves fromEnvironment through unix:// and reuses a cached CA', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'edge-hub-state-'));
    const first = await EdgeHubEmulator.start({ modules: [{ id: 'm' }], stateDir });
    const ca = first.caPem;
    await first.stop();
    const hub = await EdgeHubEmulator.start({ modules: [{ id: 'm', desired: { k: 'v' } }], stateDir, workloadSocket: join(stateDir, 'workload.sock') });
    try {
      expect(hub.caPem).toBe(ca);
      expect(hub.moduleEnv('m')['IOTEDGE_WORKLOADURI']).toBe(`unix://${join(stateDir, 'workload.sock')}`);
      const client = await fromEnvironment(hub.moduleEnv('m'));
      await client.open();
      expect((await client.getTwin()).properties.desired).toMatchObject({ k: 'v' });
      await client.close();
    } finally {
      await hub.stop();
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});

describe('EdgeHubEmulator restarted with the same state dir', () => {
  let stateDir: string;
  beforeEach(() => {
    stateDir = mkdtempSync(join(tmpdir(), 'edge-hub-restart-'));
  });
  afterEach(() => rmSync(stateDir, { recursive: true, force: true }));

  it('accepts a module still running from before, which reconnects and sends again (an edgeHub restart)', async () => {
    const ports = { port: await freePort(), workloadPort: await freePort() };
    const routes = { up: 'FROM /messages/* INTO $upstream' };
    let hub = await EdgeHubEmulator.start({ modules: [{ id: 'm' }], routes, stateDir, ...ports });
    const client = await fromEnvironment(hub.moduleEnv('m'));
    try {
      await client.open();
      await client.sendEvent(new Message('before'));
      await hub.waitForUpstream(1, 5000);
      const envBefore = hub.moduleEnv('m');
      await hub.stop();
      await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));

      hub = await EdgeHubEmulator.start({ modules: [{ id: 'm' }], routes, stateDir, ...ports });
      const started = Date.now();
      expect(hub.moduleEnv('m')).toEqual(envBefore);
      // A client listening for nothing reconnects when it next sends (the SDK's retry policy covers the refusals).
      await client.sendEvent(new Message('after'));
      expect((await hub.waitForUpstream(1, 15_000))[0].body.toString()).toBe('after');
      process.stdout.write(`a module sent to a restarted emulator ${Date.now() - started} ms after its start\n`);
    } finally {
      await client.close().catch(() => undefined);
      await hub.stop();
    }
  }, 40_000);

  it('keeps the identities of modules still deployed, makes new ones for added modules and forgets removed ones', async () => {
    const generations = async (ids: string[]) => {
      const hub = await EdgeHubEmulator.start({ modules: ids.map((id) => ({ id })), stateDir });
      const env = Object.fromEntries(ids.map((id) => [id, hub.moduleEnv(id)['IOTEDGE_MODULEGENERATIONID']]));
      const keys = Object.fromEntries(ids.map((id) => [id, /SharedAccessKey=([^;]+)/.exec(hub.connectionString(id))?.[1]]));
      await hub.stop();
      return { env, keys };
    };
    const first = await generations(['a', 'b']);
    const second = await generations(['a', 'c']);
    expect(second.env['a']).toBe(first.env['a']);
    expect(second.keys['a']).toBe(first.keys['a']);
    const third = await generations(['a', 'b', 'c']);
    expect(third.env['a']).toBe(first.env['a']);
    expect(third.env['c']).toBe(second.env['c']);
    // b was removed in between: deployed again, it is a new module, as IoT Edge makes it.
    expect(third.env['b']).not.toBe(first.env['b']);
    expect(third.keys['b']).not.toBe(first.keys['b']);
  });
});

describe('EdgeHubEmulator with state it cannot read in its state dir (module identities, the CA)', () => {
  let stateDir: string;
  beforeEach(() => {
    stateDir = mkdtempSync(join(tmpdir(), 'edge-hub-identities-'));
  });
  afterEach(() => rmSync(stateDir, { recursive: true, force: true }));

  /** Starts and stops a hub for `ids` on stateDir: each module's generation id, its CA, and what the hub warned. */
  async function startOnce(ids: string[]) {
    const warnings: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => warnings.push(JSON.parse(line).msg) });
    const hub = await EdgeHubEmulator.start({ modules: ids.map((id) => ({ id })), stateDir, logger });
    const generations = Object.fromEntries(ids.map((id) => [id, hub.moduleEnv(id)['IOTEDGE_MODULEGENERATIONID']]));
    await hub.stop();
    return { generations, caPem: hub.caPem, warnings };
  }

  it('says a file that is no JSON, moves it aside under a name that says so, and gives every module a new identity', async () => {
    const file = join(stateDir, 'module-identities.json');
    const before = await startOnce(['a', 'b']);
    const truncated = readFileSync(file, 'utf8').slice(0, 40); // a copy cut short, say
    writeFileSync(file, truncated);

    const after = await startOnce(['a', 'b']);

    const aside = readdirSync(stateDir).filter((name) => name.startsWith('module-identities.json.corrupt-'));
    expect(aside).toHaveLength(1);
    expect(readFileSync(join(stateDir, aside[0]), 'utf8')).toBe(truncated);
    expect(after.warnings).toHaveLength(1);
    expect(after.warnings[0].startsWith(`${file} cannot be read as module identities (`)).toBe(true);
    expect(after.warnings[0]).toMatch(/\(.*JSON.*\): moved aside to /);
    expect(after.warnings[0]).toContain(`moved aside to ${join(stateDir, aside[0])}; every module gets a new identity, so a module still running from before is refused (404 from the workload API)`);
    expect(after.generations['a']).not.toBe(before.generations['a']);
    // The new identities are kept, and read again without a word.
    expect(await startOnce(['a', 'b'])).toEqual({ ...after, warnings: [] });
  });

  it('says a file that is JSON but no object of identities, and an entry that is no identity, naming its module', async () => {
    const file = join(stateDir, 'module-identities.json');
    writeFileSync(file, '[]');
    expect((await startOnce(['a'])).warnings).toEqual([expect.stringContaining('cannot be read as module identities (not a JSON object but an array)')]);

    const kept = await startOnce(['a', 'b']);
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), b: { key: '' } }));
    const after = await startOnce(['a', 'b']);

    expect(after.warnings).toEqual([`${file} holds no key and generation id for module b: its entry is replaced by a new identity, so b still running from before is refused (404 from the workload API) until it is restarted with its new env`]);
    expect(after.generations['a']).toBe(kept.generations['a']);
  });

  it('says a CA cache that is no JSON, moves it aside under a name that says so, and makes a new CA, which it keeps', async () => {
    const file = join(stateDir, 'edge-ca.json');
    const before = await startOnce(['a']);
    const truncated = readFileSync(file, 'utf8').slice(0, 100);
    writeFileSync(file, truncated);

    const after = await startOnce(['a']);

    const aside = readdirSync(stateDir).filter((name) => name.startsWith('edge-ca.json.corrupt-'));
    expect(aside).toHaveLength(1);
    expect(readFileSync(join(stateDir, aside[0]), 'utf8')).toBe(truncated);
    expect(after.warnings).toHaveLength(1);
    expect(after.warnings[0].startsWith(`${file} cannot be read as the edge CA and server certificate (`)).toBe(true);
    expect(after.warnings[0]).toMatch(/\(.*JSON.*\): moved aside to /);
    expect(after.warnings[0]).toContain(`moved aside to ${join(stateDir, aside[0])}; a new CA is made, so a module that trusts the old one (an earlier ca.pem) fails TLS to edgeHub until it is restarted with the new one`);
    expect(after.caPem).not.toBe(before.caPem);
    expect(after.generations).toEqual(before.generations);
    expect(await startOnce(['a'])).toEqual({ ...after, warnings: [] });
  });

  it('says a CA cache that is JSON but holds no certificate where the CA should be, naming the field', async () => {
    const file = join(stateDir, 'edge-ca.json');
    await startOnce(['a']);
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), caPem: '-----BEGIN CERTIFICATE-----\ncut short' }));

    expect((await startOnce(['a'])).warnings).toEqual([expect.stringContaining(`${file} cannot be read as the edge CA and server certificate (caPem is no PEM certificate): moved aside to ${file}.corrupt-`)]);
  });
});

describe('EdgeHubEmulator refuses what edgeHub refuses', () => {
  let hub: EdgeHubEmulator;
  const opened: ModuleClient[] = [];
  const disconnected: string[] = [];

  async function openModule(moduleId: string): Promise<ModuleClient> {
    const client = await fromConnectionString(hub, moduleId);
    client.setRetryPolicy(new NoRetry()); // a refused message is not sent again
    opened.push(client);
    await client.open();
    return client;
  }

  beforeAll(async () => {
    hub = await EdgeHubEmulator.start({
      modules: [{ id: 'big' }, { id: 'listened' }, { id: 'reporter' }, { id: 'methods' }],
      routes: { up: 'FROM /messages/* INTO $upstream' },
    });
    hub.events.on('disconnected', (moduleId: string) => disconnected.push(moduleId));
  });

  afterAll(async () => {
    await Promise.all(opened.map((client) => client.close().catch(() => undefined)));
    await hub?.stop();
  });

  const bodies = () => hub.upstreamMessages().map((m) => m.body.toString());

  it('drops the connection of a module that sends a message over 256 KB, properties included, and the message goes nowhere', async () => {
    // The SDK itself refuses a body over 256 KB; its output name ($.on=out, 7 bytes) counts as well at edgeHub.
    const client = await openModule('big');
    const atLimit = 'u'.repeat(MAX_MESSAGE_BYTES - '$.onout'.length);
    await client.sendOutputEvent('out', new Message(atLimit));
    await hub.waitForUpstream(1, 5000);

    const dropped = eventWhere(hub.events, 'disconnected', (moduleId) => moduleId === 'big');
    client.sendOutputEvent('out', new Message('o'.repeat(MAX_MESSAGE_BYTES))).catch(() => undefined);
    await dropped;
    expect(bodies()).toEqual([atLimit]);
  });

  it('keeps a module connected when an upstream listener throws, and the message reaches the other listeners once', async () => {
    const client = await openModule('listened');
    const heard: string[] = [];
    const throwing = () => {
      throw new Error('a bug in a listener');
    };
    const hearing = (message: { body: Buffer }) => heard.push(message.body.toString());
    hub.upstream.on('message', throwing);
    hub.upstream.on('message', hearing);
    try {
      // Acknowledged (QoS 1) once the hub has taken each: both listeners have run by then.
      await client.sendEvent(new Message('first'));
      await client.sendEvent(new Message('second'));
    } finally {
      hub.upstream.off('message', throwing);
      hub.upstream.off('message', hearing);
    }
    expect(heard).toEqual(['first', 'second']);
    expect(disconnected).not.toContain('listened');
    expect(hub.connectedModules()).toContain('listened');
  });

  it("answers 400 to reported properties edgeHub's validator refuses, and keeps the twin as it was", async () => {
    const twin = await (await openModule('reporter')).getTwin();
    expect(await reportPatch(twin, { ok: 1 })).toBeUndefined();
    const refused = [{ 'a#b': 1 }, { $version: 3 }, { 'a b': 1 }, { s: 'x'.repeat(4097) }, { list: [1, null] }, { n: 2 ** 53 }];
    const errors = [];
    for (const patch of refused) errors.push((await reportPatch(twin, patch))?.message);
    expect(errors).toEqual([
      'invalid reported properties patch: Property name a#b contains invalid character "#"',
      'invalid reported properties patch: Property name $version contains invalid character "$"',
      'invalid reported properties patch: Property name a b contains invalid character " "',
      'invalid reported properties patch: Value associated with property name s has length 4097 that exceeds maximum length of 4096',
      "invalid reported properties patch: Arrays cannot contain 'null' as value",
      'invalid reported properties patch: Property n has an out of bound value. Valid values are between -4503599627370496 and 4503599627370495',
    ]);
    expect(hub.twin('reporter').reported).toEqual({ ok: 1 });
    expect(disconnected).not.toContain('reporter');
  });

  it('answers 400 to a direct method whose request or response is over 128 KB, as IoT Hub does', async () => {
    const client = await openModule('methods');
    const requests: unknown[] = [];
    client.onMethod('echo', (request, response) => {
      requests.push(request?.payload);
      void response?.send(200, request?.payload);
    });
    client.onMethod('huge', (_request, response) => void response?.send(200, 'r'.repeat(140_000)));
    await hub.waitForSubscription('methods', 'methods', 5000);

    const atLimit = 'a'.repeat(128 * 1024 - 2); // JSON adds the quotes
    await expect(hub.invokeMethod('methods', 'echo', atLimit)).resolves.toEqual({ status: 200, payload: atLimit });
    await expect(hub.invokeMethod('methods', 'echo', `${atLimit}+`)).resolves.toMatchObject({ status: 400, payload: { message: expect.stringMatching(/131073 bytes, over the 131072/) } });
    expect(requests).toHaveLength(1);
    await expect(hub.invokeMethod('methods', 'huge')).resolves.toMatchObject({ status: 400, payload: { message: expect.stringMatching(/answer is 140002 bytes/) } });
  });
});

describe('EdgeHubEmulator SAS token expiry', () => {
  it('drops a connected module once its token expires, as edgeHub does; one that cannot renew stays out', async () => {
    // fromSharedAccessSignature dials the hub named in the token, so the emulator is that hub, port included.
    const port = await freePort();
    const hub = await EdgeHubEmulator.start({ modules: [{ id: 'm' }], port, iothubHostName: `127.0.0.1:${port}` });
    const key = /SharedAccessKey=([^;]+)/.exec(hub.connectionString('m'))?.[1] as string;
    const expirySeconds = Math.floor(Date.now() / 1000) + 3;
    const token = SharedAccessSignature.create(encodeURIComponent(`127.0.0.1:${port}/devices/sim-device/modules/m`), '', key, expirySeconds).toString();
    const client = ModuleClient.fromSharedAccessSignature(token, Mqtt);
    try {
      await client.setOptions({ ca: hub.caPem });
      const connected = nextEvent(hub.events, 'connected');
      await client.open();
      // A module listening for methods: the SDK reconnects by itself when dropped.
      client.onMethod('ping', (_request, response) => void response?.send(200));
      await hub.waitForSubscription('m', 'methods', 5000);
      await connected;
      const dropped = nextEvent<[string]>(hub.events, 'disconnected', 8000);
      expect(await dropped).toEqual(['m']);
      expect(Date.now()).toBeGreaterThanOrEqual(expirySeconds * 1000);
      // The SDK reconnects with the same token, which is refused.
      const [, why] = await nextEvent<[string, string]>(hub.events, 'rejected');
      expect(why).toMatch(/the token expired at/);
      expect(hub.connectedModules()).toEqual([]);
    } finally {
      await client.close().catch(() => undefined);
      await hub.stop();
    }
  });
});

describe('EdgeHubEmulator upstream log', () => {
  it('keeps only the latest keepUpstream messages; waitForUpstream counts all of them', async () => {
    const hub = await EdgeHubEmulator.start({ modules: [{ id: 'm' }], routes: { up: 'FROM /* INTO $upstream' }, keepUpstream: 2 });
    const client = await fromConnectionString(hub, 'm');
    try {
      await client.open();
      for (const body of ['1', '2', '3']) await client.sendEvent(new Message(body));
      const kept = await hub.waitForUpstream(3, 5000);
      expect(kept.map((m) => m.body.toString())).toEqual(['2', '3']);
    } finally {
      await client.close().catch(() => undefined);
      await hub.stop();
    }
  });
});
