import type { ImageView } from '@iev/text-detection';
import type { ChainedFrame } from './in-order-detections';
import { SourceFeed } from './source-feed';
import type { SchedulableFrame } from './source-scheduler';

type TestFrame = ChainedFrame & SchedulableFrame;

const IMAGE: ImageView = { data: new Uint8Array(4 * 2 * 3), width: 4, height: 2, stride: 12 };
const frame = (sourceId: string, sequence: number): TestFrame => ({ sourceId, sequence, captureTimeMs: sequence, width: 4, height: 2, image: IMAGE });

/** A chain that takes a frame each time the test frees the model, and records what went in. */
function handFedChain() {
  const pushed: string[] = [];
  const free: Array<() => void> = [];
  let drained = false;
  return {
    pushed,
    drained: () => drained,
    freeModel: () => free.shift()?.(),
    chain: {
      push: (f: TestFrame) => {
        pushed.push(`${f.sourceId}#${f.sequence}`);
        return new Promise<void>((resolve) => free.push(resolve));
      },
      drain: async () => {
        drained = true;
      },
    },
  };
}

const turns = async (count = 5) => {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve));
};

describe('SourceFeed', () => {
  it('gives the model the sources in turns, each time the newest frame of the next source in line', async () => {
    const model = handFedChain();
    const taken: string[] = [];
    const feed = new SourceFeed<TestFrame>({ chain: model.chain, scheduler: { refreshAfterMs: 60_000 }, taken: (f) => taken.push(f.sourceId) });
    void feed.offer(frame('a', 1));
    await turns();
    void feed.offer(frame('b', 1));
    void feed.offer(frame('c', 1));
    void feed.offer(frame('b', 2)); // replaces b#1, keeps b's place
    void feed.offer(frame('a', 2));
    for (let i = 0; i < 3; i++) {
      model.freeModel();
      await turns();
    }
    expect(model.pushed).toEqual(['a#1', 'b#2', 'c#1', 'a#2']);
    expect(taken).toEqual(['a', 'b', 'c', 'a']);
    const closing = feed.close();
    model.freeModel();
    await closing;
  });

  it('asks a source for its next frame once the model can take another after its frame, not when its frame goes in', async () => {
    const model = handFedChain();
    const feed = new SourceFeed<TestFrame>({ chain: model.chain });
    let settled: string | undefined;
    void feed.offer(frame('a', 1)).then((outcome) => (settled = outcome));
    await turns();
    expect(model.pushed).toEqual(['a#1']);
    expect(settled).toBeUndefined();
    model.freeModel();
    await turns();
    expect(settled).toBe('taken');
    await feed.close();
  });

  it('on close, settles the waiting offers, stops feeding and drains the chain', async () => {
    const model = handFedChain();
    const feed = new SourceFeed<TestFrame>({ chain: model.chain });
    void feed.offer(frame('a', 1));
    await turns();
    const waiting = feed.offer(frame('b', 1));
    model.freeModel();
    await turns();
    const closing = feed.close();
    model.freeModel();
    await closing;
    expect(await waiting).toBe('taken');
    expect(model.drained()).toBe(true);
    expect(await feed.offer(frame('c', 1))).toBe('closed');
    expect(model.pushed).toEqual(['a#1', 'b#1']);
  });
});
