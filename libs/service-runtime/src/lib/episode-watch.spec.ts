import { EpisodeWatch } from './episode-watch';

describe('EpisodeWatch', () => {
  it('says a trouble once when it begins and once when it ends, with the last seen, whatever the checks between', () => {
    let now: number | undefined;
    const said: string[] = [];
    const watch = new EpisodeWatch(() => now, { began: (ms) => said.push(`began ${ms}`), ended: (ms) => said.push(`ended ${ms}`) });
    watch.check();
    for (now = 1; now <= 3; now++) watch.check();
    expect(watch.current).toBe(3);
    now = undefined;
    watch.check();
    watch.check();
    expect(watch.current).toBeUndefined();
    now = 7;
    watch.check();
    expect(said).toEqual(['began 1', 'ended 3', 'began 7']);
  });
});
