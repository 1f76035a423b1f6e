import type { Quad } from '@iev/text-detection';
import { editDistance, evaluateTextSpotting, normalizeText } from './text-spotting';

const square = (x: number, size = 10): Quad => [[x, 0], [x + size, 0], [x + size, size], [x, size]];

describe('evaluateTextSpotting', () => {
  it('counts a line when a box matches it at IoU >= 0.5 and reads its text, case and spaces aside', () => {
    const scores = evaluateTextSpotting([
      {
        truth: [{ quad: square(0), text: 'Gate 7' }, { quad: square(20), text: 'EXIT' }, { quad: square(40), text: 'Dock' }],
        predictions: [{ quad: square(0), text: 'GATE7' }, { quad: square(21), text: 'EXlT' }, { quad: square(70), text: 'Dock' }],
      },
    ]);
    expect(scores).toMatchObject({ correct: 1, predictions: 3, groundTruth: 3, boxesMatched: 2 });
    expect(scores.precision).toBeCloseTo(1 / 3, 6);
    expect(scores.hmean).toBeCloseTo(1 / 3, 6);
    // Matched lines: "gate7" exact, "exlt" one substitution in four.
    expect(scores.characterAccuracy).toBeCloseTo((1 + 0.75) / 2, 6);
  });

  it('pairs boxes and lines one-to-one, so a second box reading the same line is a false positive', () => {
    const scores = evaluateTextSpotting([{ truth: [{ quad: square(0), text: 'A' }], predictions: [{ quad: square(0), text: 'A' }, { quad: square(1), text: 'A' }] }]);
    expect(scores).toMatchObject({ correct: 1, predictions: 2, recall: 1, precision: 0.5 });
  });

  it('scores zero, not NaN, with nothing to find or nothing found', () => {
    expect(evaluateTextSpotting([])).toMatchObject({ precision: 0, recall: 0, hmean: 0, characterAccuracy: 1 });
  });
});

describe('editDistance and normalizeText', () => {
  it('counts insertions, deletions and substitutions by code point', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('字a', '字b')).toBe(1);
  });

  it('ignores case and whitespace', () => {
    expect(normalizeText(' Gate\t7 ')).toBe('gate7');
  });

  it('takes a character written decomposed (a gt.json in NFD) for the same character composed, as the model reads it', () => {
    expect(normalizeText('Cafe\u0301 2024')).toBe(normalizeText('Caf\u00e9 2024'));
  });
});
