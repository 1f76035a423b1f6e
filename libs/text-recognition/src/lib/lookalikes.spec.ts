import { join } from 'node:path';
import { CharacterSet } from './character-set';
import { resolveLookalikes, resolvesLookalikes } from './lookalikes';

describe('resolveLookalikes', () => {
  it.each([
    ['L0T 022022D', 'LOT 022022D'],
    ['D00R 6', 'DOOR 6'],
    ['SERIAL U5E8KXT0I8', 'SERIAL U5E8KXTOI8'],
    ['EXP 2O27-03-14', 'EXP 2027-03-14'],
  ])('reads %s as %s: a zero between letters is O, an O between digits is 0', (read, expected) => {
    expect(resolveLookalikes(read)).toBe(expected);
  });

  it.each(['MG00 XEL', 'P0', '0CT', 'ROOM 2', '1.0 m', 'Zone O', 'ABC 1234', '字0字'])('leaves %s as read: at a word edge or beside other characters', (read) => {
    expect(resolveLookalikes(read)).toBe(read);
  });
});

describe('resolvesLookalikes', () => {
  const measured = CharacterSet.fromFile(join(__dirname, '../../../../models/ppocr_keys_v1.txt')).sha256;
  const another = 'f'.repeat(64);

  it("applies the rule by itself only to the models of the dictionary it was measured on, and to any model when asked", () => {
    expect(resolvesLookalikes('auto', measured)).toBe(true);
    expect(resolvesLookalikes('auto', another)).toBe(false);
    expect(resolvesLookalikes('on', another)).toBe(true);
    expect(resolvesLookalikes('off', measured)).toBe(false);
  });
});
