import { setHeapGrowingPercent } from './heap-growth';

describe('setHeapGrowingPercent', () => {
  it.each([-1, -100, 2.5, Number.NaN])('refuses %p as a growing percent, naming it', (percent) => {
    expect(() => setHeapGrowingPercent(percent)).toThrow(new RangeError(`heap growing percent must be a non-negative integer, got ${percent}`));
  });
});
