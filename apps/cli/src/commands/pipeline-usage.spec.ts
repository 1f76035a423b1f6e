import type { ModuleLook } from './bench-modules';
import { usageBetween, type PipelineLook } from './pipeline-usage';

/** A module seen with `cpuMs` on its main thread (pid 1) and `childrenMs` in its decoder. */
function look(cpuMs: number, childrenMs: number, gcMs: number, framesDecoded: number): ModuleLook {
  return { cpu: { processCpuMs: cpuMs, threads: new Map([[1, { group: 'main', cpuMs }]]), childrenCpuMs: childrenMs }, gcMs, framesDecoded };
}

describe('usageBetween', () => {
  it("adds every capture's CPU, GC pauses and frames decoded up, inference apart", () => {
    const before: PipelineLook = { atMs: 1000, captures: [look(100, 50, 5, 10), look(200, 60, 6, 20)], inference: look(1000, 0, 10, 0), machine: { busyMs: 5000, idleMs: 9000 } };
    const after: PipelineLook = { atMs: 3000, captures: [look(130, 70, 7, 40), look(250, 100, 9, 45)], inference: look(2800, 0, 30, 0), machine: { busyMs: 7100, idleMs: 10900 } };

    expect(usageBetween(before, after)).toEqual({
      wallMs: 2000,
      capture: { processMs: 80, groups: { main: 80 }, childrenMs: 60 },
      captureGcMs: 5,
      inference: { processMs: 1800, groups: { main: 1800 }, childrenMs: 0 },
      inferenceGcMs: 20,
      framesDecoded: 55,
      preview: { processMs: 0, groups: {}, childrenMs: 0 },
      machine: { busyMs: 2100, idleMs: 1900 },
    });
  });

  it("takes the preview's CPU when it was looked at too", () => {
    const machine = { busyMs: 0, idleMs: 0 };
    const before: PipelineLook = { atMs: 0, captures: [], inference: look(0, 0, 0, 0), preview: look(40, 0, 0, 0).cpu, machine };
    const after: PipelineLook = { atMs: 1000, captures: [], inference: look(0, 0, 0, 0), preview: look(100, 0, 0, 0).cpu, machine };
    expect(usageBetween(before, after).preview).toEqual({ processMs: 60, groups: { main: 60 }, childrenMs: 0 });
  });
});
