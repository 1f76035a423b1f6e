import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { frameCodec, FRAMES_TOPIC, PixelFormat, type Frame } from '@iev/frame-protocol';
import { waitUntil } from '@iev/testing';
import { ClientZmqOnDemand, ServerZmqOnDemand } from '@iev/zmq-transport';
import { Dealer } from 'zeromq';
import { FairFrameOffer } from './fair-frame-offer';

jest.setTimeout(20_000);
beforeAll(() => Logger.overrideLogger(false));

const frame = (sourceId: string, sequence: number): Frame => ({
  sourceId,
  sequence,
  captureTimeMs: Date.now(),
  width: 2,
  height: 2,
  stride: 6,
  pixelFormat: PixelFormat.BGR24,
  pixels: new Uint8Array(12).fill(sequence),
});

describe('FairFrameOffer (real ZeroMQ)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fair-offer-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("answers each request with the next source in turn, its newest frame: a fast camera does not take a slow one's turns", async () => {
    const endpoint = `ipc://${join(dir, 'frames')}`;
    const client = new ClientZmqOnDemand({ endpoint, bind: true, codecs: { [FRAMES_TOPIC]: frameCodec } });
    await client.connect();
    const offer = new FairFrameOffer(client, (error) => {
      throw error;
    });
    // A consumer (the preview) that holds each frame until let go; as any ServerZmqOnDemand, it asks for the next as
    // soon as it takes one, which waits in its mailbox meanwhile.
    const handled: string[] = [];
    let letGo = () => undefined as void;
    const consumer = new ServerZmqOnDemand({ endpoint, codecs: { [FRAMES_TOPIC]: frameCodec }, requestRepeatMs: 100 });
    consumer.addHandler(
      FRAMES_TOPIC,
      async ({ sourceId, sequence }: Frame) => {
        handled.push(`${sourceId} ${sequence}`);
        await new Promise<void>((resolve) => (letGo = resolve));
      },
      true,
    );
    await new Promise<void>((resolve, reject) => consumer.listen((error) => (error ? reject(error) : resolve())));
    try {
      offer.offer(frame('fast', 0));
      await waitUntil(() => handled.length === 1, 'the first frame');
      // While the consumer is busy: the slow camera's one frame among the fast one's.
      for (const next of [frame('fast', 1), frame('slow', 0), frame('fast', 2), frame('fast', 3)]) offer.offer(next);
      letGo();
      await waitUntil(() => handled.length === 2, 'the second frame');
      offer.offer(frame('fast', 4));
      letGo();
      await waitUntil(() => handled.length === 3, 'the third frame');
      letGo();
      await waitUntil(() => handled.length === 4, 'the fourth frame');

      // Emitted as they came, the slow camera's frame would have been replaced by fast 2 and 3 unseen.
      expect(handled).toEqual(['fast 0', 'fast 3', 'slow 0', 'fast 4']);
      // A frame waiting for its turn keeps its memory; one replaced by a newer of its source does not.
      const waiting = frame('slow', 1);
      const replaced = frame('slow', 2);
      offer.offer(waiting);
      expect(offer.holds(waiting.pixels.buffer)).toBe(true);
      offer.offer(replaced);
      expect([offer.holds(waiting.pixels.buffer), offer.holds(replaced.pixels.buffer)]).toEqual([false, true]);
    } finally {
      letGo();
      offer.close();
      await consumer.close();
      await client.close();
    }
  });

  it('offers nothing more of a source it forgot (a camera removed): a consumer that asks later gets the others only', async () => {
    const endpoint = `ipc://${join(dir, 'forgotten')}`;
    const client = new ClientZmqOnDemand({ endpoint, bind: true, codecs: { [FRAMES_TOPIC]: frameCodec } });
    await client.connect();
    const offer = new FairFrameOffer(client, (error) => {
      throw error;
    });
    // Offered while nobody asks (no preview running), then removed.
    const removed = frame('garage', 7);
    offer.offer(removed);
    offer.offer(frame('door', 0));
    offer.forget('garage');
    const handled: string[] = [];
    const consumer = new ServerZmqOnDemand({ endpoint, codecs: { [FRAMES_TOPIC]: frameCodec }, requestRepeatMs: 100 });
    consumer.addHandler(FRAMES_TOPIC, async ({ sourceId, sequence }: Frame) => void handled.push(`${sourceId} ${sequence}`), true);
    await new Promise<void>((resolve, reject) => consumer.listen((error) => (error ? reject(error) : resolve())));
    try {
      expect(offer.holds(removed.pixels.buffer)).toBe(false);
      await waitUntil(() => handled.length === 1, 'the first frame');
      offer.offer(frame('door', 1));
      await waitUntil(() => handled.length === 2, 'the second frame');
      expect(handled).toEqual(['door 0', 'door 1']);
    } finally {
      offer.close();
      await consumer.close();
      await client.close();
    }
  });

  it("does not hand a consumer that asks later the forgotten source's frame an earlier consumer was sent last", async () => {
    const endpoint = `ipc://${join(dir, 'sent-then-forgotten')}`;
    const client = new ClientZmqOnDemand({ endpoint, bind: true, codecs: { [FRAMES_TOPIC]: frameCodec } });
    await client.connect();
    const offer = new FairFrameOffer(client, (error) => {
      throw error;
    });
    try {
      // A preview sent the camera's frame last, closed before it asked again (a ServerZmqOnDemand asks as it takes
      // one, so the next frame would go to that want and be the newest); the camera removed before another's next.
      const earlier = new Dealer({ linger: 0 });
      earlier.connect(endpoint);
      await earlier.send([FRAMES_TOPIC, '1', '0']);
      offer.offer(frame('garage', 7));
      const [, , ...parts] = await earlier.receive();
      expect(frameCodec.decode(parts)).toMatchObject({ sourceId: 'garage', sequence: 7 });
      earlier.close();
      offer.forget('garage');
      offer.offer(frame('door', 0));

      const later: string[] = [];
      const consumer = new ServerZmqOnDemand({ endpoint, codecs: { [FRAMES_TOPIC]: frameCodec }, requestRepeatMs: 100 });
      consumer.addHandler(FRAMES_TOPIC, async ({ sourceId, sequence }: Frame) => void later.push(`${sourceId} ${sequence}`), true);
      await new Promise<void>((resolve, reject) => consumer.listen((error) => (error ? reject(error) : resolve())));
      try {
        await waitUntil(() => later.length > 0, 'the first frame');
        expect(later).toEqual(['door 0']);
      } finally {
        await consumer.close();
      }
    } finally {
      offer.close();
      await client.close();
    }
  });
});
