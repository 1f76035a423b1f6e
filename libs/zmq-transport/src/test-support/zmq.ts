import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { ClientProxy } from '@nestjs/microservices';
import { PixelFormat, type Frame } from '@iev/frame-protocol';
import { lastValueFrom } from 'rxjs';

/**
 * Unique ipc endpoints in a fresh directory under /tmp. libzmq leaves the socket file behind when a bound
 * socket closes, so a spec removes the directory with `removeAll()` when it is done.
 */
export function ipcEndpoints(): { endpoint(name: string): string; removeAll(): void } {
  const directory = mkdtempSync('/tmp/iev-zmq-');
  let count = 0;
  return {
    endpoint: (name) => `ipc://${directory}/${name}-${count++}.sock`,
    removeAll: () => rmSync(directory, { recursive: true, force: true }),
  };
}

/** A tcp endpoint on a port that was free a moment ago, for tests where the connecting side starts first. */
export async function freeTcpEndpoint(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no tcp port');
  return `tcp://127.0.0.1:${address.port}`;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Polls until `condition` holds. The deadline only turns a hang into a readable failure; nothing asserts on
 * how long it took.
 */
export async function waitFor(description: string, condition: () => boolean, deadlineMs = 8_000): Promise<void> {
  const giveUpAt = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > giveUpAt) throw new Error(`timed out waiting until ${description}`);
    await sleep(10);
  }
}

/**
 * PUB/SUB drops everything sent before the subscription reaches the publisher ("slow joiner"), so tests
 * publish `send` repeatedly until `arrived` says something got through.
 */
export async function publishUntil(description: string, send: () => Promise<unknown>, arrived: () => boolean): Promise<void> {
  let sending = true;
  const resend = (async () => {
    while (sending && !arrived()) {
      await send();
      await sleep(20);
    }
  })();
  try {
    await waitFor(description, arrived);
  } finally {
    sending = false;
    await resend;
  }
}

/** A promise the test resolves by hand: holds a handler busy for exactly as long as the test needs. */
export function gate(): { opened: Promise<void>; open: () => void } {
  let open = () => undefined as void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** A tiny GRAY8 frame whose identity is in sourceId/sequence. */
export function testFrame(sourceId: string, sequence: number): Frame {
  return { sourceId, sequence, captureTimeMs: 1_700_000_000_000 + sequence, width: 4, height: 2, stride: 4, pixelFormat: PixelFormat.GRAY8, pixels: Buffer.alloc(8, sequence % 256) };
}

/** Sockets, servers and clients a spec opened, closed together after each test. */
export class Closer {
  private readonly resources: Array<{ close(): unknown }> = [];

  add<T extends { close(): unknown }>(resource: T): T {
    this.resources.push(resource);
    return resource;
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.resources.splice(0).map((resource) => resource.close()));
  }
}

/** Emits and waits until the client has handed the message to ZeroMQ. */
export function emitted(client: ClientProxy, pattern: string, data: unknown): Promise<unknown> {
  return lastValueFrom(client.emit(pattern, data), { defaultValue: undefined });
}
