import type { DetectedBox } from '@iev/frame-protocol';
import { evaluationAnnotations, PREDICTION_COLOUR, TRUTH_COLOUR } from './evaluation-annotations';

const square = (x: number, y: number, size: number): DetectedBox['points'] => [
  [x, y],
  [x + size, y],
  [x + size, y + size],
  [x, y + size],
];

describe('evaluationAnnotations', () => {
  it('marks true lines no prediction matched as misses and predictions that matched nothing as false alarms', () => {
    const truth = [{ quad: square(0, 0, 10), text: 'EXIT' }, { quad: square(100, 0, 10), text: 'OPEN' }];
    const predictions: DetectedBox[] = [
      { points: square(1, 0, 10), score: 0.9, text: 'EXIT', textScore: 0.95 },
      { points: square(200, 0, 10), score: 0.8 },
    ];
    expect(evaluationAnnotations(truth, predictions)).toEqual([
      { points: truth[0].quad, colour: TRUTH_COLOUR, dashed: false, label: undefined, labelBelow: true },
      { points: truth[1].quad, colour: TRUTH_COLOUR, dashed: true, label: 'miss: OPEN', labelBelow: true },
      { points: predictions[0].points, colour: PREDICTION_COLOUR, dashed: false, label: 'EXIT (0.95)' },
      { points: predictions[1].points, colour: PREDICTION_COLOUR, dashed: true, label: 'false alarm' },
    ]);
  });

  it('pairs as the evaluation does: at the IoU threshold, one prediction to a line', () => {
    const truth = [{ quad: square(0, 0, 10) }];
    const marks = (predictions: DetectedBox['points'][], iou: number) =>
      evaluationAnnotations(truth, predictions.map((points) => ({ points, score: 1 })), iou).map((annotation) => annotation.label ?? 'matched');
    // Shifted by half its width: IoU 1/3.
    expect(marks([square(5, 0, 10)], 0.5)).toEqual(['miss', 'false alarm']);
    expect(marks([square(5, 0, 10)], 0.3)).toEqual(['matched', 'matched']);
    expect(marks([square(0, 0, 10), square(0, 0, 10)], 0.5)).toEqual(['matched', 'matched', 'false alarm']);
  });
});
