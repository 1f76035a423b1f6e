import { AllSourcesSilence } from './all-sources-silence';

/** A silence on a clock the spec sets, and what it said. */
function silenceAt(limitMs: number) {
  const clock = { now: 0 };
  const said: string[] = [];
  const silence = new AllSourcesSilence({ limitMs, clock: () => clock.now, telling: { began: (ms) => said.push(`began ${ms}`), ended: (ms) => said.push(`ended ${ms}`) } });
  const at = (now: number) => {
    clock.now = now;
    return silence;
  };
  return { at, said };
}

describe('AllSourcesSilence', () => {
  it('is silent once nothing arrived for the limit since start, said once, and its end said at the next arrival', () => {
    const { at, said } = silenceAt(1000);
    expect(at(999).check()).toBeUndefined();
    expect(at(1000).check()).toBe(1000);
    expect(at(1100).check()).toBe(1100);
    at(1200).arrived('camera0');
    expect(said).toEqual(['began 1000', 'ended 1100']);
    expect(at(1300).check()).toBeUndefined();
    expect(at(2200).check()).toBe(1000);
  });

  it('is not silent while any source still arrives, nor while a slow one is within three of its intervals', () => {
    const { at } = silenceAt(1000);
    for (const now of [0, 5000, 10_000]) at(now).arrived('slow');
    at(10_000).arrived('fast');
    // The fast one stalls past the limit; the slow one, at 5 s a message, is still within 15 s.
    expect(at(20_000).check()).toBeUndefined();
    expect(at(25_000).check()).toBe(15_000);
    expect(at(25_000).ages()).toEqual([
      { sourceId: 'slow', ms: 15_000 },
      { sourceId: 'fast', ms: 15_000 },
    ]);
  });

  it('takes a source slower than the limit for silent in its first gap, before it has an interval, and not in the next', () => {
    // CAPTURE_FPS=0.01 against the 60 s default: a frame every 100 s.
    const { at, said } = silenceAt(60_000);
    at(0).arrived('slow');
    expect(at(60_000).check()).toBe(60_000);
    at(100_000).arrived('slow');
    expect(at(190_000).check()).toBeUndefined();
    at(200_000).arrived('slow');
    expect(at(290_000).check()).toBeUndefined();
    expect(said).toEqual(['began 60000', 'ended 60000']);
  });

  it('with limit 0, is never silent', () => {
    expect(silenceAt(0).at(86_400_000).check()).toBeUndefined();
  });

  it('forgets a source gone for good: no longer among the ages nor keeping the others from silence, a silence counting from the last arrival of any', () => {
    const { at, said } = silenceAt(1000);
    for (const now of [0, 5000, 10_000]) at(now).arrived('slow');
    at(10_000).arrived('removed');
    at(10_500).arrived('fast');
    at(11_000).forget('removed');
    expect(at(11_000).ages()).toEqual([
      { sourceId: 'slow', ms: 1000 },
      { sourceId: 'fast', ms: 500 },
    ]);
    at(12_000).forget('slow');
    expect(at(12_000).ages()).toEqual([{ sourceId: 'fast', ms: 1500 }]);
    // The slow one would have kept this from silence until 25 s.
    expect(at(12_000).check()).toBe(1500);
    at(12_000).forget('fast');
    expect(at(12_000).ages()).toEqual([]);
    expect(at(13_000).check()).toBe(2500);
    expect(said).toEqual(['began 1500']);
    at(13_500).arrived('removed');
    expect(at(13_500).ages()).toEqual([{ sourceId: 'removed', ms: 0 }]);
    expect(said).toEqual(['began 1500', 'ended 2500']);
  });
});
