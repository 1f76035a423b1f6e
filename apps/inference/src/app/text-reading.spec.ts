import { join } from 'node:path';
import type { DetectedBox } from '@iev/frame-protocol';
import { readTextFrameSet } from '@iev/text-detection';
import { readBgrImage } from '@iev/testing';
import { readInferenceConfig } from './inference.config';
import { TextReading } from './text-reading';

// Loads the real recognition model: seconds on a busy 2-core machine.
jest.setTimeout(60_000);

const ROOT = join(__dirname, '../../../..');

describe('TextReading switched live (the twin\'s recognition, real recognition model)', () => {
  const [frame] = readTextFrameSet(join(ROOT, 'testdata/text-frames/dev-b'));
  const image = readBgrImage(frame.path, frame.width, frame.height);
  const boxes: DetectedBox[] = frame.truth.map((quad) => ({ points: quad.map(([x, y]) => [Math.round(x), Math.round(y)]) as DetectedBox['points'], score: 0.9 }));
  // Inference's start-up settings, as main.ts gives them; a line is read in the first frame it shows in.
  const config = readInferenceConfig({ REC_MODEL_PATH: join(ROOT, 'models/ch_PP-OCRv4_rec_infer.onnx'), REC_DICT_PATH: join(ROOT, 'models/ppocr_keys_v1.txt'), REC_CONFIRM_FRAMES: '1' });
  const reading = new TextReading({ ...config, useTensorRt: false, threads: 1, log: { info: () => undefined, warn: () => undefined } });
  afterAll(() => reading.dispose());

  /** Reads the frame at `timeMs` with the reader in force, and waits for the lines it sent to the model. */
  const readAt = async (timeMs: number, sourceId = 'camera0') => {
    const reader = reading.active;
    if (!reader) throw new Error('recognition is off');
    const read = await reader.read({ sourceId, timeMs, image, boxes });
    await reader.idle();
    return read;
  };

  it('reads the lines afresh, under new ids, once switched off and on again: none is carried from before the pause', async () => {
    await reading.switch(true);
    await readAt(0);
    const before = await readAt(33);
    expect(before).toMatchObject({ read: 0, carried: boxes.length });

    // Telemetry saw boxes without line ids meanwhile and said these lines gone: the same ids back would appear again
    // under ids it said gone, with texts nobody read after the pause.
    await reading.switch(false);
    await reading.switch(true);
    const after = await readAt(66);
    expect(after).toMatchObject({ read: boxes.length, carried: 0 });
    const idsBefore = before.boxes.map((box) => box.lineId);
    expect(after.boxes.filter((box) => idsBefore.includes(box.lineId))).toEqual([]);
  });

  // Telemetry says a removed camera's lines gone: added back soon (within the reader's minute for an idle source), the
  // same ids came back with texts read before it went.
  it("forgets a removed camera's lines, and only its: added again, they are read afresh under new ids", async () => {
    await reading.switch(true);
    await readAt(2000, 'door');
    await readAt(2000, 'gate');
    const before = await readAt(2033, 'door');
    expect(before).toMatchObject({ read: 0, carried: boxes.length });

    reading.cameras.removed?.('door');
    const idsBefore = before.boxes.map((box) => box.lineId);
    const after = await readAt(2066, 'door');
    expect(after).toMatchObject({ read: boxes.length, carried: 0 });
    expect(after.boxes.filter((box) => idsBefore.includes(box.lineId))).toEqual([]);
    expect(await readAt(2066, 'gate')).toMatchObject({ read: 0, carried: boxes.length });
  });

  // Its frames in detection as it is removed are read after the removal, and start its lines again: kept, they came
  // back with the camera added again within the minute, texts read before it went.
  it('reads a camera added again afresh, though its frames still in flight at its removal were read after it', async () => {
    await reading.switch(true);
    await readAt(3000, 'porch');
    reading.cameras.removed?.('porch');
    const inFlight = await readAt(3033, 'porch');

    reading.cameras.added?.('porch');
    const after = await readAt(4000, 'porch');
    expect(after).toMatchObject({ read: boxes.length, carried: 0 });
    const idsInFlight = inFlight.boxes.map((box) => box.lineId);
    expect(after.boxes.filter((box) => idsInFlight.includes(box.lineId))).toEqual([]);
  });

  it('keeps its lines through a patch that leaves recognition on (a new minTextScore, another setting)', async () => {
    await reading.switch(true);
    const before = await readAt(1000);
    await reading.switch(true, 0.6);
    const after = await readAt(1033);
    expect(after).toMatchObject({ read: 0, carried: boxes.length });
    expect(after.boxes.map((box) => box.lineId)).toEqual(before.boxes.map((box) => box.lineId));
  });
});
