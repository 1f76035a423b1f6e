import { engineBuildProgressLog } from './engine-build-progress';

describe('engine build progress log', () => {
  function run(events: [number, Parameters<ReturnType<typeof engineBuildProgressLog>>[0]][]) {
    const lines: string[] = [];
    let clock = 0;
    const report = engineBuildProgressLog({ info: (line) => lines.push(line), warn: (line) => lines.push(`warn: ${line}`) }, () => clock);
    for (const [at, event] of events) {
      clock = at;
      report(event);
    }
    return lines;
  }

  it('logs the top two levels of phases as they start and finish, with their steps at most every 10 s', () => {
    expect(
      run([
        [0, { phase: 'Building engine', step: 0, steps: 3 }],
        [0, { phase: 'Tactic selection', parent: 'Building engine', step: 0, steps: 40 }],
        [1_000, { phase: 'Layer conv1', parent: 'Tactic selection', step: 0, steps: 7 }],
        [2_000, { phase: 'Tactic selection', parent: 'Building engine', step: 1, steps: 40 }],
        [11_000, { phase: 'Tactic selection', parent: 'Building engine', step: 20, steps: 40 }],
        [12_000, { phase: 'Tactic selection', parent: 'Building engine', step: 21, steps: 40 }],
        [30_000, { phase: 'Tactic selection', parent: 'Building engine', step: 40, steps: 40 }],
        [30_000, { phase: 'Building engine', step: 3, steps: 3 }],
      ]),
    ).toEqual([
      'TensorRT engine build: Building engine started (3 steps)',
      'TensorRT engine build: Building engine > Tactic selection started (40 steps)',
      'TensorRT engine build: Building engine > Tactic selection 20/40',
      'TensorRT engine build: Building engine > Tactic selection done',
      'TensorRT engine build: Building engine done',
    ]);
  });
});
