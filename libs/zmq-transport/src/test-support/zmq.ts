import { mkdtempSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClientProxy } from '@nestjs/microservices';
import { PixelFormat, type Frame } from '@iev/frame-protocol';
import { freePort, waitUntil } from '@iev/testing';
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
  return `tcp://127.0.0.1:${await freePort()}`;
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
    await waitUntil(arrived, description);
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
