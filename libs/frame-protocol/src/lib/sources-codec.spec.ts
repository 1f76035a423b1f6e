import { makeDetections, rejectionOf } from '../test-support/samples';
import { detectionsCodec } from './detections-codec';
import { PREAMBLE_LENGTH } from './envelope';
import { MAX_ANNOUNCED_REMOVALS, MAX_ANNOUNCED_SOURCES, sourcesCodec } from './sources-codec';
import type { SourcesAnnouncement } from './types';

const RUN = '3f1c7e52-8a0d-4b6e-9c1f-2d7a5b0e9f41';
const announcement = (): SourcesAnnouncement => ({ runId: RUN, sourceIds: ['camera0', 'door', 'cam#1'], repeatMs: 1000, complete: true });

/** An announcement whose JSON body is `json`, preamble kept valid. */
function withJson(json: unknown): Buffer[] {
  const [valid] = sourcesCodec.encode(announcement());
  return [Buffer.concat([valid.subarray(0, PREAMBLE_LENGTH), Buffer.from(JSON.stringify(json))])];
}

describe('sourcesCodec', () => {
  it('round-trips an announcement through one part, no camera included', () => {
    expect(sourcesCodec.decode(sourcesCodec.encode(announcement()))).toEqual(announcement());
    expect(sourcesCodec.decode(sourcesCodec.encode({ runId: RUN, sourceIds: [], repeatMs: 1000, complete: false }))).toEqual({ runId: RUN, sourceIds: [], repeatMs: 1000, complete: false });
  });

  it('round-trips the cameras the run removed, and reads none where the field is not sent (an older module)', () => {
    const withRemovals = { ...announcement(), removed: ['garage', 'gate 2'] };
    expect(sourcesCodec.decode(sourcesCodec.encode(withRemovals))).toEqual(withRemovals);
    expect(sourcesCodec.decode(withJson({ ...announcement(), removed: [] }))).toEqual(announcement());
  });

  it('takes a source id of 256 bytes of UTF-8, what a frame header holds, and a run id of 64', () => {
    const longest = { runId: 'r'.repeat(64), sourceIds: ['é'.repeat(128)], repeatMs: 1000, complete: true };
    expect(sourcesCodec.decode(sourcesCodec.encode(longest))).toEqual(longest);
  });

  it("reads an older module's announcement, which does not say whether its list is complete, as not complete (in the same version: an older reader drops the field)", () => {
    const { complete: _, ...older } = announcement();
    expect(sourcesCodec.decode(withJson(older))).toEqual({ ...older, complete: false });
  });

  it('drops fields it does not know, as detections do, so a newer module may add some', () => {
    expect(sourcesCodec.decode(withJson({ ...announcement(), owner: 'inference' }))).toEqual(announcement());
  });

  it('is told from detections by its kind, both ways', () => {
    expect(rejectionOf(sourcesCodec, detectionsCodec.encode(makeDetections())).code).toBe('WRONG_KIND');
    expect(rejectionOf(detectionsCodec, sourcesCodec.encode(announcement())).code).toBe('WRONG_KIND');
  });

  it.each([
    ['no run', { sourceIds: ['camera0'], repeatMs: 1000 }, 'runId must be a non-empty string'],
    ['no list', { runId: RUN, repeatMs: 1000 }, 'sourceIds must be an array'],
    ['an empty source id', { runId: RUN, sourceIds: ['camera0', ''], repeatMs: 1000 }, 'sourceIds[1] must be a non-empty string'],
    ['a source id over 256 bytes of UTF-8', { runId: RUN, sourceIds: ['camera0', 'é'.repeat(129)], repeatMs: 1000 }, 'sourceIds[1] must be at most 256 UTF-8 bytes'],
    ['a run id over 64 bytes', { runId: 'r'.repeat(65), sourceIds: ['camera0'], repeatMs: 1000 }, 'runId must be at most 64 UTF-8 bytes'],
    ['a source twice', { runId: RUN, sourceIds: ['door', 'camera0', 'door'], repeatMs: 1000 }, 'sourceIds must name each source once, got "door" twice'],
    ['too many sources', { runId: RUN, sourceIds: Array.from({ length: MAX_ANNOUNCED_SOURCES + 1 }, (_, i) => `camera${i}`), repeatMs: 1000 }, `sourceIds must have at most ${MAX_ANNOUNCED_SOURCES} items`],
    ['no repeat', { runId: RUN, sourceIds: ['camera0'] }, 'repeatMs must be an integer'],
    ['a repeat of 0', { runId: RUN, sourceIds: ['camera0'], repeatMs: 0 }, 'repeatMs must be within [1, 3600000], got 0'],
    ['completeness as a string', { runId: RUN, sourceIds: ['camera0'], repeatMs: 1000, complete: 'yes' }, 'complete must be a boolean, got string'],
    ['removals as a string', { runId: RUN, sourceIds: ['camera0'], repeatMs: 1000, removed: 'garage' }, 'removed must be an array'],
    ['a camera listed and removed', { runId: RUN, sourceIds: ['camera0', 'garage'], repeatMs: 1000, removed: ['garage'] }, 'removed must not name a source sourceIds lists, got "garage"'],
    ['too many removals', { runId: RUN, sourceIds: [], repeatMs: 1000, removed: Array.from({ length: MAX_ANNOUNCED_REMOVALS + 1 }, (_, i) => `camera${i}`) }, `removed must have at most ${MAX_ANNOUNCED_REMOVALS} items`],
  ])('rejects %s, naming the field', (_, json, message) => {
    const rejection = rejectionOf(sourcesCodec, withJson(json));
    expect(rejection.code).toBe('INVALID_FIELD');
    expect(rejection.message).toContain(message);
  });
});
