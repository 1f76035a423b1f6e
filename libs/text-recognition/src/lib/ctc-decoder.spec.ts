import { CharacterSet } from './character-set';
import { decodeCtc } from './ctc-decoder';

const characters = new CharacterSet(['A', 'B', 'C']); // classes: 0 blank, 1 A, 2 B, 3 C, 4 space

/** One-hot-ish rows of `classCount` classes: each step puts `p` on its class and spreads the rest. */
function steps(classes: number[], p = 0.9, classCount = characters.classCount): Float32Array {
  const rows = new Float32Array(classes.length * classCount).fill((1 - p) / (classCount - 1));
  classes.forEach((c, step) => (rows[step * classCount + c] = p));
  return rows;
}

describe('decodeCtc', () => {
  it('collapses repeats, drops blanks, and keeps a repeat that a blank separates', () => {
    expect(decodeCtc(steps([1, 1, 0, 1, 2, 2, 0, 0, 3]), 0, 9, characters).text).toBe('AABC');
  });

  it('reads the space class as a space', () => {
    expect(decodeCtc(steps([1, 4, 4, 2]), 0, 4, characters).text).toBe('A B');
  });

  it("scores a line by the mean probability of the characters it kept, each repeat counted once", () => {
    const rows = steps([1, 1, 0, 2]);
    rows[1 * characters.classCount + 1] = 0.5; // the repeat's own probability does not count
    rows[3 * characters.classCount + 2] = 0.7;
    expect(decodeCtc(rows, 0, 4, characters).score).toBeCloseTo((0.9 + 0.7) / 2, 6);
  });

  it('reads nothing, with score 0, from blanks only', () => {
    expect(decodeCtc(steps([0, 0, 0]), 0, 3, characters)).toEqual({ text: '', score: 0 });
  });

  it('decodes a model trained without a space class (dictionary + 1 classes) as well as one with it (+ 2)', () => {
    const withoutSpace = new CharacterSet(['A', 'B', 'C']);
    withoutSpace.assertFits(4, 'rec.onnx', 'dict.txt');
    expect(decodeCtc(steps([1, 3, 0, 3], 0.9, 4), 0, 4, withoutSpace).text).toBe('ACC');
    expect(decodeCtc(steps([1, 3, 0, 3], 0.9, 4), 0, 4, characters, 4).text).toBe('ACC');
    const withSpace = new CharacterSet(['A', 'B', 'C']);
    withSpace.assertFits(5, 'rec.onnx', 'dict.txt');
    expect(decodeCtc(steps([1, 4, 3], 0.9, 5), 0, 3, withSpace).text).toBe('A C');
    // A class the characters do not name (output wider than the dictionary) is no character.
    expect(decodeCtc(steps([1, 4, 3], 0.9, 5), 0, 3, withoutSpace, 5).text).toBe('AC');
    expect(() => new CharacterSet(['A', 'B', 'C']).assertFits(6, 'rec.onnx', 'dict.txt')).toThrow(
      'the recognition model rec.onnx (REC_MODEL_PATH) predicts 6 classes, but the dictionary dict.txt (REC_DICT_PATH) has 3 characters (+ blank = 4, or + blank + space = 5)',
    );
  });

  it('decodes one line of a batch from its offset', () => {
    const batch = new Float32Array([...steps([1, 0]), ...steps([3, 3])]);
    expect(decodeCtc(batch, 2 * characters.classCount, 2, characters).text).toBe('C');
  });
});
