import type { ModuleLook } from './bench-modules';
import { addUsage, NO_USAGE, usageBetween, type PipelineLook } from './pipeline-usage';

/** A module seen with `cpuMs` on its main thread (pid 1) and `childrenMs` in its decoder. */
function look(cpuMs: number, childrenMs: number, gcMs: number, framesDecoded: number): ModuleLook {
  return { cpu: { processCpuMs: cpuMs, threads: new Map([[1, { group: 'main', cpuMs }]]), childrenCpuMs: childrenMs }, gcMs, framesDecoded };
}

describe('usageBetween', () => {
  it("adds every capture's CPU, GC pauses and frames decoded up, inference apart", () => {
    const before: PipelineLook = { atMs: 1000, captures: [look(100, 50, 5, 10), look(200, 60, 6, 20)], inference: look(1000, 0, 10, 0), benchCpuMs: 300, machine: { busyMs: 5000, idleMs: 9000, stolenMs: 40 } };
    const after: PipelineLook = { atMs: 3000, captures: [look(130, 70, 7, 40), look(250, 100, 9, 45)], inference: look(2800, 0, 30, 0), benchCpuMs: 340, machine: { busyMs: 7100, idleMs: 10900, stolenMs: 70 } };

    expect(usageBetween(before, after)).toEqual({
      wallMs: 2000,
      capture: { processMs: 80, groups: { main: 80 }, childrenMs: 60 },
      captureGcMs: 5,
      inference: { processMs: 1800, groups: { main: 1800 }, childrenMs: 0 },
      inferenceGcMs: 20,
      framesDecoded: 55,
      preview: { processMs: 0, groups: {}, childrenMs: 0 },
      benchMs: 40,
      machine: { busyMs: 2100, idleMs: 1900, stolenMs: 30 },
    });
  });

  it("counts inference's own decoded frames where it decodes its cameras itself, with no capture", () => {
    const machine = { busyMs: 0, idleMs: 0, stolenMs: 0 };
    const before: PipelineLook = { atMs: 0, captures: [], inference: look(1000, 100, 10, 500), benchCpuMs: 0, machine };
    const after: PipelineLook = { atMs: 1000, captures: [], inference: look(1400, 130, 10, 540), benchCpuMs: 0, machine };

    expect(usageBetween(before, after)).toMatchObject({ framesDecoded: 40, inference: { processMs: 400, childrenMs: 30 } });
  });

  it("takes the preview's CPU when it was looked at too", () => {
    const machine = { busyMs: 0, idleMs: 0, stolenMs: 0 };
    const before: PipelineLook = { atMs: 0, captures: [], inference: look(0, 0, 0, 0), preview: look(40, 0, 0, 0).cpu, benchCpuMs: 0, machine };
    const after: PipelineLook = { atMs: 1000, captures: [], inference: look(0, 0, 0, 0), preview: look(100, 0, 0, 0).cpu, benchCpuMs: 0, machine };
    expect(usageBetween(before, after).preview).toEqual({ processMs: 60, groups: { main: 60 }, childrenMs: 0 });
  });
});

describe('addUsage', () => {
  it("adds two segments' machine time up as it adds the modules'", () => {
    const segment = { ...NO_USAGE, wallMs: 1000, machine: { busyMs: 1500, idleMs: 400, stolenMs: 100 } };
    expect(addUsage(segment, { ...segment, machine: { busyMs: 1800, idleMs: 200, stolenMs: 0 } })).toMatchObject({ wallMs: 2000, machine: { busyMs: 3300, idleMs: 600, stolenMs: 100 } });
  });
});
