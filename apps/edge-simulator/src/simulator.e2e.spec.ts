import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, isRunning, LineProcess } from '@iev/testing';

// The built simulator (nx test builds it first) running a deployment of two tiny modules written here, each using
// the real SDK with ModuleClient.fromEnvironment, so nothing depends on the project's own modules.

const WORKSPACE_ROOT = join(__dirname, '../../..');
const SIMULATOR = join(WORKSPACE_ROOT, 'dist/apps/edge-simulator/main.js');

const SENDER = `
const { ModuleClient, Message } = require('azure-iot-device');
const { Mqtt } = require('azure-iot-device-mqtt');
(async () => {
  const client = await ModuleClient.fromEnvironment(Mqtt);
  await client.open();
  let greeting = process.env.GREETING;
  console.log(JSON.stringify({ level: 30, msg: 'sender pid=' + process.pid + ' PEER=' + process.env.PEER }));
  client.onMethod('setGreeting', (request, response) => {
    greeting = request.payload.greeting;
    response.send(200, { greeting });
  });
  const twin = await client.getTwin();
  twin.on('properties.desired', (delta) => twin.properties.reported.update({ appliedVersion: delta.$version }, () => undefined));
  let seq = 0;
  const timer = setInterval(() => {
    const message = new Message(JSON.stringify({ seq, greeting }));
    message.contentType = 'application/json';
    message.contentEncoding = 'utf-8';
    message.properties.add('seq', String(seq));
    client.sendOutputEvent('out', message).catch(() => undefined);
    client.sendOutputEvent('fwd', new Message('fwd ' + seq)).catch(() => undefined);
    seq++;
  }, 300);
  process.on('SIGINT', () => {
    clearInterval(timer);
    client.close().finally(() => process.exit(0));
  });
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
`;

const RECEIVER = `
const { ModuleClient, Message } = require('azure-iot-device');
const { Mqtt } = require('azure-iot-device-mqtt');
(async () => {
  const client = await ModuleClient.fromEnvironment(Mqtt);
  await client.open();
  console.log(JSON.stringify({ level: 30, msg: 'receiver pid=' + process.pid }));
  client.on('inputMessage', (input, message) => {
    client.sendOutputEvent('relayed', new Message(input + ': ' + message.getBytes().toString())).catch(() => undefined);
  });
  process.on('SIGINT', () => client.close().finally(() => process.exit(0)));
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
`;

const MANIFEST = {
  modulesContent: {
    $edgeAgent: {
      'properties.desired': {
        modules: {
          sender: {
            env: { GREETING: { value: 'hello' }, PEER: { value: 'tcp://receiver:7000' } },
            settings: { image: '${MODULES.sender}', createOptions: { ExposedPorts: { '7000/tcp': {} } } },
          },
          receiver: { settings: { image: '${MODULES.receiver}' } },
        },
      },
    },
    $edgeHub: {
      'properties.desired': {
        routes: {
          up: 'FROM /messages/modules/sender/outputs/out INTO $upstream',
          fwd: 'FROM /messages/modules/sender/outputs/fwd INTO BrokeredEndpoint("/modules/receiver/inputs/in")',
          relayed: 'FROM /messages/modules/receiver/outputs/* INTO $upstream',
        },
      },
    },
    sender: { 'properties.desired': { interval: 300 } },
  },
};

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function simulator(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [SIMULATOR, ...args], { cwd: WORKSPACE_ROOT }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('edge simulator (built app)', () => {
  let dir: string;
  let stateDir: string;
  let outFile: string;
  let child: LineProcess;
  const waitForLine = (pattern: RegExp) => child.waitForLine(pattern, 20_000);

  const run = (...args: string[]) => simulator([...args, '--state-dir', stateDir]);

  beforeAll(async () => {
    if (!existsSync(SIMULATOR)) throw new Error(`${SIMULATOR} is missing: build it first (npx nx build edge-simulator; nx test does it)`);
    dir = mkdtempSync(join(tmpdir(), 'edge-simulator-e2e-'));
    stateDir = join(dir, 'state');
    // In the state folder, which the simulator makes: --out may name a file in it.
    outFile = join(stateDir, 'upstream.jsonl');
    for (const [name, source] of [['sender', SENDER], ['receiver', RECEIVER]]) {
      mkdirSync(join(dir, 'apps', name), { recursive: true });
      writeFileSync(join(dir, 'apps', name, 'main.js'), source);
    }
    writeFileSync(join(dir, 'deployment.json'), JSON.stringify(MANIFEST));
    child = new LineProcess(
      'simulator',
      process.execPath,
      [SIMULATOR, '--manifest', join(dir, 'deployment.json'), '--apps-dir', join(dir, 'apps'), '--state-dir', stateDir, '--out', outFile, '--port', '0', '--workload-port', '0'],
      // NODE_PATH lets the modules written to the temp dir find the workspace's SDK.
      { cwd: WORKSPACE_ROOT, env: { ...process.env, NODE_PATH: join(WORKSPACE_ROOT, 'node_modules') } },
    );
    await waitForLine(/INFO sender connected/);
    await waitForLine(/INFO receiver connected/);
  });

  afterAll(async () => {
    await child?.stop('SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('runs the modules locally with the manifest env, module hosts made local, and says what it changed', async () => {
    await waitForLine(/\[sender\s*\] INFO sender pid=\d+ PEER=tcp:\/\/127\.0\.0\.1:7000/);
    await waitForLine(/\[simulator\s*\] sender: PEER=tcp:\/\/receiver:7000 → tcp:\/\/127\.0\.0\.1:7000 \(modules are local processes\)/);
    await waitForLine(/createOptions .* ignored/);
  });

  it('prints upstream messages, routes output to input, and appends them to --out as JSON lines', async () => {
    await waitForLine(/\[upstream\s*\] sender\/out {2}\d+ B {2}application\/json; utf-8 {2}\{seq=\d+\} {2}\{"seq":\d+,"greeting":"hello"\}/);
    await waitForLine(/\[upstream\s*\] receiver\/relayed {2}\d+ B {2}in: fwd \d+/);
    const records = readFileSync(outFile, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    expect(records.find((record) => record.moduleId === 'sender')).toMatchObject({
      outputName: 'out',
      contentType: 'application/json',
      properties: { seq: expect.any(String) },
      bodyEncoding: 'json',
      body: { seq: expect.any(Number), greeting: 'hello' },
    });
  });

  it('shows and patches a twin from the command line; the module sees the patch and reports back', async () => {
    const shown = await run('twin', 'sender');
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ desired: { interval: 300 } });

    const patched = await run('twin', 'sender', '{"interval": 100}');
    expect(patched.code).toBe(0);
    expect(JSON.parse(patched.stdout)).toMatchObject({ version: 2, desired: { interval: 100 } });
    let reported: { appliedVersion?: number } = {};
    await eventually(
      async () => {
        reported = JSON.parse((await run('twin', 'sender')).stdout).reported;
        return reported.appliedVersion === 2 ? reported : undefined;
      },
      () => `the module to report version 2 (reported: ${JSON.stringify(reported)})`,
      { timeoutMs: 4_000, intervalMs: 200 },
    );
  });

  it('invokes direct methods from the command line: answers, and 504 when a module does not answer', async () => {
    const answered = await run('invoke', 'sender', 'setGreeting', '{"greeting": "hi"}');
    expect(answered.code).toBe(0);
    expect(JSON.parse(answered.stdout)).toEqual({ status: 200, payload: { greeting: 'hi' } });
    await waitForLine(/sender\/out .*"greeting":"hi"/);

    const unanswered = await run('invoke', 'sender', 'noSuchMethod', '--timeout', '5');
    expect(unanswered.code).toBe(1);
    expect(JSON.parse(unanswered.stderr)).toMatchObject({ status: 504 });

    const unknown = await run('twin', 'nobody');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no module \\"nobody\\" in the deployment (modules: sender, receiver)');
  });

  it('stops everything on SIGINT: modules exit, no process left, control endpoint gone', async () => {
    const pids = [/sender pid=(\d+)/, /receiver pid=(\d+)/].map((pattern) => Number(child.output.map((line) => pattern.exec(line)?.[1]).find(Boolean)));
    expect(pids.every(isRunning)).toBe(true);
    expect(await child.stop('SIGINT')).toBe(0);
    expect(child.output.at(-1)).toMatch(/\[simulator\s*\] stopped/);
    expect(pids.some(isRunning)).toBe(false);
    expect(existsSync(join(stateDir, 'control.json'))).toBe(false);

    const none = await run('twin', 'sender');
    expect(none.code).toBe(2);
    expect(none.stderr).toContain(`no simulator is running with state dir ${stateDir}`);
  });
});

describe('edge simulator start-up errors', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'edge-simulator-errors-'));
    const senderOnly = structuredClone(MANIFEST) as { modulesContent: { $edgeAgent: { 'properties.desired': { modules: Record<string, unknown> } } } };
    delete senderOnly.modulesContent.$edgeAgent['properties.desired'].modules['receiver'];
    writeFileSync(join(dir, 'deployment.json'), JSON.stringify({ ...senderOnly, modulesContent: { ...senderOnly.modulesContent, $edgeHub: { 'properties.desired': { routes: { up: MANIFEST.modulesContent.$edgeHub['properties.desired'].routes.up } } } } }));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names a missing manifest', async () => {
    const missing = join(dir, 'missing.json');
    const { code, stderr } = await simulator(['--manifest', missing, '--state-dir', dir]);
    expect(code).toBe(2);
    expect(stderr).toBe(`edge-simulator: deployment manifest ${missing} is invalid:\n  - cannot read it: no such file\n`);
  });

  it('answers an unknown option or a missing value with its usage, as a wrong command', async () => {
    for (const [args, refusal] of [
      [['--bogus'], "Unknown option '--bogus'"],
      [['--port'], "Option '--port <value>' argument missing"],
    ] as const) {
      const { code, stdout, stderr } = await simulator(['--state-dir', dir, ...args]);
      expect({ code, stdout }).toEqual({ code: 2, stdout: '' });
      expect(stderr).toMatch(new RegExp(`^edge-simulator: ${refusal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*\n\nusage: npm run simulate -- \\[options\\]`));
    }
  });

  it('refuses method timeouts outside IoT Hub\'s 5 to 300 s', async () => {
    for (const args of [['invoke', 'm', 'x', '--timeout', '1'], ['--method-timeout', '301']]) {
      const { code, stderr } = await simulator([...args, '--state-dir', dir]);
      expect(code).toBe(2);
      expect(stderr).toMatch(/^edge-simulator: --(method-)?timeout must be 5 to 300 seconds \(IoT Hub's range for a method response timeout\), got (1|301)\n/);
    }
  });

  it('names an --out file it cannot open, before starting anything', async () => {
    const out = join(dir, 'no-such-dir', 'upstream.jsonl');
    const { code, stdout, stderr } = await simulator(['--manifest', join(dir, 'deployment.json'), '--state-dir', join(dir, 'state'), '--out', out, '--port', '0', '--workload-port', '0']);
    expect(code).toBe(2);
    expect(stderr).toBe(`edge-simulator: cannot open --out ${out}: ENOENT: no such file or directory, open '${out}'\n`);
    expect(stdout).not.toMatch(/edgeHub on mqtts/);
  });

  it('stops through its normal stop, saying why, when --out cannot be written any more (ENOSPC)', async () => {
    const apps = join(dir, 'apps');
    mkdirSync(join(apps, 'sender'), { recursive: true });
    writeFileSync(join(apps, 'sender', 'main.js'), SENDER);
    const { code, stdout } = await new Promise<Run>((resolve) => {
      execFile(
        process.execPath,
        [SIMULATOR, '--manifest', join(dir, 'deployment.json'), '--apps-dir', apps, '--state-dir', join(dir, 'state'), '--out', '/dev/full', '--port', '0', '--workload-port', '0'],
        { cwd: WORKSPACE_ROOT, env: { ...process.env, NODE_PATH: join(WORKSPACE_ROOT, 'node_modules') }, timeout: 20_000 },
        (error, out, err) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout: out, stderr: err }),
      );
    });
    expect(stdout).toMatch(/\[simulator\s*\] writing \/dev\/full failed \(ENOSPC: no space left on device, write\): stopping/);
    expect(stdout.trimEnd()).toMatch(/\[simulator\s*\] stopped$/);
    expect(code).toBe(1);
  });

  it('names a route it cannot parse', async () => {
    const manifest = structuredClone(MANIFEST);
    manifest.modulesContent.$edgeHub['properties.desired'].routes.up = 'FROM /messages/modules/sender/outputs/out INTO $cloud';
    writeFileSync(join(dir, 'bad-route.json'), JSON.stringify(manifest));
    const { code, stderr } = await simulator(['--manifest', join(dir, 'bad-route.json'), '--state-dir', dir, '--port', '0', '--workload-port', '0']);
    expect(code).toBe(2);
    expect(stderr).toContain('edge-simulator: route "up" (FROM /messages/modules/sender/outputs/out INTO $cloud): unknown sink $cloud');
  });
});
