import type { ImageView } from '@iev/text-detection';
import type { ChainedFrame } from './in-order-detections';
import { SourceFeed } from './source-feed';
import type { SchedulableFrame } from './source-scheduler';

type TestFrame = ChainedFrame & SchedulableFrame;

const IMAGE: ImageView = { data: new Uint8Array(4 * 2 * 3), width: 4, height: 2, stride: 12 };
const frame = (sourceId: string, sequence: number): TestFrame => ({ sourceId, sequence, captureTimeMs: sequence, width: 4, height: 2, image: IMAGE });

/** A chain that takes a batch each time the test frees the model, and records what went in (a batch joined by +). */
function handFedChain() {
  const pushed: string[] = [];
  const free: Array<() => void> = [];
  let drained = false;
  return {
    pushed,
    drained: () => drained,
    freeModel: () => free.shift()?.(),
    chain: {
      pushBatch: (frames: readonly TestFrame[]) => {
        pushed.push(frames.map((f) => `${f.sourceId}#${f.sequence}`).join('+'));
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

  it('with maxBatch, a turn takes the waiting frames of one size from several sources together, the next size its own turn', async () => {
    const model = handFedChain();
    const small = (sourceId: string, sequence: number): TestFrame => ({ ...frame(sourceId, sequence), width: 2, height: 1 });
    const settled: string[] = [];
    const feed = new SourceFeed<TestFrame>({ chain: model.chain, scheduler: { refreshAfterMs: 60_000 }, maxBatch: () => 2 });
    void feed.offer(frame('a', 1));
    await turns();
    for (const offered of [frame('b', 1), small('c', 1), frame('d', 1), small('e', 1)]) void feed.offer(offered).then(() => settled.push(offered.sourceId));
    model.freeModel();
    await turns();
    model.freeModel();
    await turns();
    expect(model.pushed).toEqual(['a#1', 'b#1+d#1', 'c#1+e#1']);
    // A batch's sources are asked for their next frames together, once the model can take more after it.
    expect(settled.sort()).toEqual(['b', 'd']);
    const closing = feed.close();
    model.freeModel();
    await closing;
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
