import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { LineProcess } from './line-process';
import { claimedPorts, freePort, freePortIn, freeRtpPort, pickablePortRanges, type PortRange } from './ports';

const WORKSPACE_ROOT = join(__dirname, '../../../..');

/**
 * `count` ports side by side, from a random place in the first range freePort picks from, none of them claimed: a
 * claim lasts its process's life, so a port this process or another Jest worker was given earlier stays taken.
 */
async function randomWindow(count: number): Promise<PortRange> {
  const [{ low, high }] = pickablePortRanges();
  const claimed = await claimedPorts();
  for (;;) {
    const start = low + randomInt(high - low + 2 - count);
    const window = { low: start, high: start + count - 1 };
    if (![...claimed].some(inWindow(window))) return window;
  }
}

const inWindow = ({ low, high }: PortRange) => (port: number) => port >= low && port <= high;

/** A process of its own that, on SIGUSR1, picks `count` ports from `ranges` at once, prints them, and keeps them while it lives. */
async function startPicker(count: number, ranges: PortRange[]): Promise<LineProcess> {
  const script = `
    const { freePortIn } = require('./libs/testing/src/lib/ports');
    process.on('SIGUSR1', () => Promise.all(Array.from({ length: ${count} }, () => freePortIn(${JSON.stringify(ranges)}))).then((ports) => console.log(JSON.stringify(ports)), (error) => { console.error(error.message); process.exit(1); }));
    setInterval(() => undefined, 60_000);
    console.log('ready');`;
  const picker = new LineProcess('picker', process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], {
    cwd: WORKSPACE_ROOT,
    env: { ...process.env, TS_NODE_PROJECT: 'libs/testing/tsconfig.spec.json' },
  });
  await picker.waitForLine(/^ready$/);
  return picker;
}

async function picked(picker: LineProcess): Promise<number[]> {
  return JSON.parse((await picker.waitForLine(/^\[.*\]$/))[0]) as number[];
}

describe('freePort', () => {
  it('gives a port a server can listen on', async () => {
    const port = await freePort();
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    expect(server.address()).toMatchObject({ port });
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("never gives a port in the kernel's ephemeral range, where outgoing connections take theirs", async () => {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    const outside = pickablePortRanges({ low, high }).every((range) => range.high < low || range.low > high);
    const ports = await Promise.all(Array.from({ length: 50 }, () => freePort()));
    expect(ports.filter((port) => outside && port >= low && port <= high)).toEqual([]);
  });

  it('picks around the ephemeral range from 20000 up, or from 20000 up where the range takes every port', () => {
    expect(pickablePortRanges({ low: 32768, high: 60999 })).toEqual([
      { low: 20000, high: 32767 },
      { low: 61000, high: 65535 },
    ]);
    expect(pickablePortRanges({ low: 49152, high: 65535 })).toEqual([{ low: 20000, high: 49151 }]);
    expect(pickablePortRanges({ low: 1024, high: 65535 })).toEqual([{ low: 20000, high: 65535 }]);
  });

  it('gives 50 callers at once 50 different ports, even from a window barely larger', async () => {
    expect(new Set(await Promise.all(Array.from({ length: 50 }, () => freePort())))).toHaveProperty('size', 50);
    const window = await randomWindow(60);
    const ports = await Promise.all(Array.from({ length: 50 }, () => freePortIn([window])));
    expect(ports.every(inWindow(window))).toBe(true);
    expect(new Set(ports)).toHaveProperty('size', 50);
  });

  it('gives two processes picking at once different ports', async () => {
    const window = await randomWindow(150);
    const pickers = await Promise.all([startPicker(50, [window]), startPicker(50, [window])]);
    try {
      for (const picker of pickers) picker.child.kill('SIGUSR1');
      const [first, second] = await Promise.all(pickers.map(picked));
      expect([...first, ...second].every(inWindow(window))).toBe(true);
      expect(first.filter((port) => second.includes(port))).toEqual([]);
      expect(new Set(first).size + new Set(second).size).toBe(100);
    } finally {
      await Promise.all(pickers.map((picker) => picker.stop('SIGTERM')));
    }
  }, 30_000);

  it("keeps a port another process was given while that process lives, and takes it back once it is gone", async () => {
    const only = await randomWindow(1);
    const picker = await startPicker(1, [only]);
    try {
      picker.child.kill('SIGUSR1');
      expect(await picked(picker)).toEqual([only.low]);
      await expect(freePortIn([only])).rejects.toThrow(`no free port in 200 picks from ${only.low}-${only.high}`);
    } finally {
      await picker.stop('SIGTERM');
    }
    expect(await freePortIn([only])).toBe(only.low);
  }, 30_000);

  const hasIpv6Loopback = Object.values(networkInterfaces()).some((addresses) => addresses?.some(({ family, address }) => family === 'IPv6' && address === '::1'));
  const listeningOn = (host: string) => async (port: number) => {
    const server = createServer();
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, resolve));
    return () => new Promise<void>((resolve) => server.close(() => resolve()));
  };
  const boundOverUdp = async (port: number) => {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => socket.once('error', reject).bind(port, '0.0.0.0', resolve));
    return () => new Promise<void>((resolve) => socket.close(resolve));
  };
  type Hold = (port: number) => Promise<() => Promise<void>>;
  const holders: [string, Hold][] = [
    ['listens on over TCP on 127.0.0.1', listeningOn('127.0.0.1')],
    ['listens on over TCP on every IPv4 address', listeningOn('0.0.0.0')],
    ...(hasIpv6Loopback ? ([['listens on over TCP on every address', listeningOn('::')], ['listens on over TCP on ::1', listeningOn('::1')]] as [string, Hold][]) : []),
    ['has bound over UDP', boundOverUdp],
  ];
  it.each(holders)('never gives a port someone %s, and gives it once it is let go', async (_, hold) => {
    const only = await randomWindow(1);
    const letGo = await hold(only.low);
    try {
      await expect(freePortIn([only])).rejects.toThrow(`no free port in 200 picks from ${only.low}-${only.high}`);
    } finally {
      await letGo();
    }
    expect(await freePortIn([only])).toBe(only.low);
  });
});

describe('freeRtpPort', () => {
  it('gives an even port whose next one, RTCP\'s, is free and claimed too', async () => {
    const port = await freeRtpPort();
    expect(port % 2).toBe(0);
    const claimed = await claimedPorts();
    expect([claimed.has(port), claimed.has(port + 1)]).toEqual([true, true]);
  });

  it('passes over a pair whose RTCP port is bound', async () => {
    const window = await randomWindow(5);
    const first = window.low + (window.low % 2); // the window's first even port; the next pair is first + 2
    const rtcpHolder = createSocket('udp4');
    await new Promise<void>((resolve) => rtcpHolder.bind(first + 1, '0.0.0.0', resolve));
    try {
      await expect(freeRtpPort([{ low: first, high: first + 1 }])).rejects.toThrow(`no free run of 2 ports in 200 picks from ${first}-${first + 1}`);
      expect(await freeRtpPort([{ low: first, high: first + 3 }])).toBe(first + 2);
    } finally {
      rtcpHolder.close();
    }
  });
});
