import { execFile, spawn, type ChildProcessByStdio } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

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

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('edge simulator (built app)', () => {
  let dir: string;
  let stateDir: string;
  let outFile: string;
  let child: ChildProcessByStdio<null, Readable, Readable>;
  const lines: string[] = [];
  let wake: () => void = () => undefined;

  async function waitForLine(pattern: RegExp, timeoutMs = 20_000): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const line of lines) {
        const match = pattern.exec(line);
        if (match) return match;
      }
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`simulator exited (${child.exitCode}) waiting for ${pattern}:\n${lines.join('\n')}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; output:\n${lines.join('\n')}`);
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 200);
      });
    }
  }

  const run = (...args: string[]) => simulator([...args, '--state-dir', stateDir]);

  beforeAll(async () => {
    if (!existsSync(SIMULATOR)) throw new Error(`${SIMULATOR} is missing: build it first (npx nx build edge-simulator; nx test does it)`);
    dir = mkdtempSync(join(tmpdir(), 'edge-simulator-e2e-'));
    stateDir = join(dir, 'state');
    outFile = join(dir, 'upstream.jsonl');
    for (const [name, source] of [['sender', SENDER], ['receiver', RECEIVER]]) {
      mkdirSync(join(dir, 'apps', name), { recursive: true });
      writeFileSync(join(dir, 'apps', name, 'main.js'), source);
    }
    writeFileSync(join(dir, 'deployment.json'), JSON.stringify(MANIFEST));
    child = spawn(
      process.execPath,
      [SIMULATOR, '--manifest', join(dir, 'deployment.json'), '--apps-dir', join(dir, 'apps'), '--state-dir', stateDir, '--out', outFile, '--port', '0', '--workload-port', '0'],
      // NODE_PATH lets the modules written to the temp dir find the workspace's SDK.
      { cwd: WORKSPACE_ROOT, env: { ...process.env, NODE_PATH: join(WORKSPACE_ROOT, 'node_modules') }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        lines.push(line);
        wake();
      });
    }
    await waitForLine(/INFO sender connected/);
    await waitForLine(/INFO receiver connected/);
  });

  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
    }
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
    for (let i = 0; ; i++) {
      const { reported } = JSON.parse((await run('twin', 'sender')).stdout);
      if (reported.appliedVersion === 2) break;
      if (i === 20) throw new Error(`the module did not report version 2: ${JSON.stringify(reported)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });

  it('invokes direct methods from the command line: answers, and 504 when a module does not answer', async () => {
    const answered = await run('invoke', 'sender', 'setGreeting', '{"greeting": "hi"}');
    expect(answered.code).toBe(0);
    expect(JSON.parse(answered.stdout)).toEqual({ status: 200, payload: { greeting: 'hi' } });
    await waitForLine(/sender\/out .*"greeting":"hi"/);

    const unanswered = await run('invoke', 'sender', 'noSuchMethod', '--timeout', '1');
    expect(unanswered.code).toBe(1);
    expect(JSON.parse(unanswered.stderr)).toMatchObject({ status: 504 });

    const unknown = await run('twin', 'nobody');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no module \\"nobody\\" in the deployment (modules: sender, receiver)');
  });

  it('stops everything on SIGINT: modules exit, no process left, control endpoint gone', async () => {
    const pids = [/sender pid=(\d+)/, /receiver pid=(\d+)/].map((pattern) => Number(lines.map((line) => pattern.exec(line)?.[1]).find(Boolean)));
    expect(pids.every(isAlive)).toBe(true);
    child.kill('SIGINT');
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code).toBe(0);
    expect(lines.at(-1)).toMatch(/\[simulator\s*\] stopped/);
    expect(pids.some(isAlive)).toBe(false);
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
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names a missing manifest', async () => {
    const missing = join(dir, 'missing.json');
    const { code, stderr } = await simulator(['--manifest', missing, '--state-dir', dir]);
    expect(code).toBe(2);
    expect(stderr).toBe(`edge-simulator: deployment manifest ${missing} is invalid:\n  - cannot read it: no such file\n`);
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
