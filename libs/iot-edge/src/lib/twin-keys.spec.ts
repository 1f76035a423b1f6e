import { byTwinKey, twinKey } from './twin-keys';

describe('twinKey', () => {
  it.each([
    ['camera0', 'camera0'],
    ['gate.north', 'gate_north'],
    ['$dock 2', '_dock_2'],
    ['a\tb', 'a_b'],
    ['cam#1', 'cam_1'],
    ['gate\u00a0north\u2003', 'gate_north_'],
    ['c1\u0085\u009f', 'c1__'],
    ['Tor-Süd/1', 'Tor-Süd/1'],
    ['', '_'],
  ])('keeps %j as %j', (name, key) => expect(twinKey(name)).toBe(key));
});

describe('byTwinKey', () => {
  it('keys each value by its twin-safe name', () => {
    expect(byTwinKey([['gate.north', 1], ['camera1', 2]])).toEqual({ gate_north: 1, camera1: 2 });
  });
});
