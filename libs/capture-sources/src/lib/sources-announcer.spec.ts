import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { sourcesCodec, SOURCES_TOPIC, type SourcesAnnouncement } from '@iev/frame-protocol';
import { waitUntil } from '@iev/testing';
import { ClientZmq, ServerZmq } from '@iev/zmq-transport';
import { SourcesAnnouncer } from './sources-announcer';

jest.setTimeout(20_000);
beforeAll(() => Logger.overrideLogger(false));

describe('SourcesAnnouncer (real ZeroMQ PUB/SUB)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sources-announcer-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('announces the cameras to a subscriber that joins later, at once on a change or once complete, and every repeatMs while none changes', async () => {
    const endpoint = `ipc://${join(dir, 'detections')}`;
    const client = new ClientZmq({ endpoint, codecs: { [SOURCES_TOPIC]: sourcesCodec } });
    await client.connect();
    const cameras = ['camera0', 'garage'];
    const failures: Error[] = [];
    const announcer = new SourcesAnnouncer(client, () => [...cameras], (error) => failures.push(error), 300);
    // Joins after the first announcement, which PUB/SUB does not keep for it.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const heard: Array<SourcesAnnouncement & { at: number }> = [];
    const subscriber = new ServerZmq({ endpoint, delivery: 'queue', codecs: { [SOURCES_TOPIC]: sourcesCodec } });
    subscriber.addHandler(SOURCES_TOPIC, async (announcement: SourcesAnnouncement) => void heard.push({ ...announcement, at: performance.now() }), true);
    await new Promise<void>((resolve, reject) => subscriber.listen((error) => (error ? reject(error) : resolve())));
    try {
      await waitUntil(() => heard.length >= 2, 'two announcements', { timeoutMs: 5000 });
      // Not complete until the module says so (its twin at start-up applied).
      expect(heard.slice(0, 2).map(({ sourceIds, repeatMs, complete }) => ({ sourceIds, repeatMs, complete }))).toEqual([
        { sourceIds: ['camera0', 'garage'], repeatMs: 300, complete: false },
        { sourceIds: ['camera0', 'garage'], repeatMs: 300, complete: false },
      ]);
      expect(heard[1].at - heard[0].at).toBeGreaterThan(200);

      cameras.pop();
      const changedAt = performance.now();
      announcer.announce();
      await waitUntil(() => heard.at(-1)?.sourceIds.length === 1, 'the change announced', { timeoutMs: 5000 });
      expect(heard.at(-1)?.sourceIds).toEqual(['camera0']);
      expect((heard.at(-1)?.at as number) - changedAt).toBeLessThan(150);
      // Said removed, for a subscriber that never heard it listed, until listed again.
      expect(heard.at(-1)?.removed).toEqual(['garage']);
      cameras.push('garage');
      announcer.announce();
      await waitUntil(() => heard.at(-1)?.sourceIds.length === 2, 'the camera added again', { timeoutMs: 5000 });
      expect(heard.at(-1)?.removed).toBeUndefined();
      cameras.pop();
      announcer.announce();
      await waitUntil(() => heard.at(-1)?.sourceIds.length === 1, 'the camera removed again', { timeoutMs: 5000 });

      const completedAt = performance.now();
      announcer.markComplete();
      await waitUntil(() => heard.at(-1)?.complete === true, 'the list announced complete', { timeoutMs: 5000 });
      expect((heard.at(-1)?.at as number) - completedAt).toBeLessThan(150);
      const heardOnceComplete = heard.length;
      await waitUntil(() => heard.length > heardOnceComplete, 'the next repeat', { timeoutMs: 5000 });
      expect(heard.at(-1)).toMatchObject({ sourceIds: ['camera0'], complete: true });

      announcer.close();
      // One sent as it closed may still be on its way.
      await new Promise((resolve) => setTimeout(resolve, 100));
      const heardOnceClosed = heard.length;
      await new Promise((resolve) => setTimeout(resolve, 700));
      expect(heard.length).toBe(heardOnceClosed);
      expect(failures).toEqual([]);
      // One run for the process's life (a preview tells a removal by it), another for another process.
      expect(new Set(heard.map(({ runId }) => runId)).size).toBe(1);
      const another = new SourcesAnnouncer(client, () => ['yard'], (error) => failures.push(error), 300);
      another.close();
      await waitUntil(() => heard.at(-1)?.sourceIds[0] === 'yard', "another process's announcement", { timeoutMs: 5000 });
      expect(heard.at(-1)?.runId).not.toBe(heard[0].runId);
    } finally {
      announcer.close();
      await subscriber.close();
      await client.close();
    }
  });
});
