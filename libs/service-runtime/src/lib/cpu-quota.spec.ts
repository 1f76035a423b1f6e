import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { cgroupCpuQuota, cpuBudget } from './cpu-quota';

/** A root with /proc/self's cgroup files and cgroup file systems laid out as the kernel shows them. */
function machine(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'cpu-quota-'));
  roots.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}
const roots: string[] = [];
afterAll(() => roots.forEach((root) => rmSync(root, { recursive: true, force: true })));

const V2_MOUNT = '30 24 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n';
// A hybrid host's: the cpu controller on its own v1 hierarchy (cpuacct and cpuset beside it), v2 holding none.
const HYBRID_MOUNTS =
  '31 24 0:27 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n' +
  '32 24 0:28 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n' +
  '33 24 0:29 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n' +
  '34 24 0:30 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n';

describe('cgroupCpuQuota', () => {
  it("reads cgroup v2's cpu.max, the tightest of the process's group and those above it", () => {
    const root = machine({
      '/proc/self/cgroup': '0::/edge/inference\n',
      '/proc/self/mountinfo': V2_MOUNT,
      '/sys/fs/cgroup/edge/cpu.max': '150000 100000\n',
      '/sys/fs/cgroup/edge/inference/cpu.max': '50000 100000\n',
    });
    expect(cgroupCpuQuota(root)).toBe(0.5);
    writeFileSync(join(root, '/sys/fs/cgroup/edge/inference/cpu.max'), 'max 100000\n');
    expect(cgroupCpuQuota(root)).toBe(1.5);
  });

  it("reads Docker's v2 container, whose own group is the mount's root", () => {
    const root = machine({ '/proc/self/cgroup': '0::/\n', '/proc/self/mountinfo': V2_MOUNT, '/sys/fs/cgroup/cpu.max': '100000 100000\n' });
    expect(cgroupCpuQuota(root)).toBe(1);
  });

  it('reads a v1 cpu hierarchy mounted on its own, as on a hybrid host, not the v2 one beside it', () => {
    const root = machine({
      '/proc/self/cgroup': '3:cpuset:/\n2:cpuacct:/\n1:cpu:/probe\n0::/\n',
      '/proc/self/mountinfo': HYBRID_MOUNTS,
      '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1\n',
      '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000\n',
      '/sys/fs/cgroup/cpu/probe/cpu.cfs_quota_us': '150000\n',
      '/sys/fs/cgroup/cpu/probe/cpu.cfs_period_us': '100000\n',
      '/sys/fs/cgroup/unified/cpu.max': '10000 100000\n',
    });
    expect(cgroupCpuQuota(root)).toBe(1.5);
  });

  it("reads Docker's v1 container, which sees its group's host path with that group mounted as the root", () => {
    const root = machine({
      '/proc/self/cgroup': '4:cpu,cpuacct:/docker/4f1c\n1:name=systemd:/docker/4f1c\n',
      '/proc/self/mountinfo': '40 35 0:33 /docker/4f1c /sys/fs/cgroup/cpu,cpuacct ro,nosuid - cgroup cgroup rw,cpu,cpuacct\n',
      '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us': '50000\n',
      '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us': '100000\n',
    });
    expect(cgroupCpuQuota(root)).toBe(0.5);
  });

  it('is undefined with no quota set, and where there are no cgroups', () => {
    const root = machine({ '/proc/self/cgroup': '0::/user.slice\n', '/proc/self/mountinfo': V2_MOUNT, '/sys/fs/cgroup/user.slice/cpu.max': 'max 100000\n' });
    expect(cgroupCpuQuota(root)).toBeUndefined();
    expect(cgroupCpuQuota(machine({}))).toBeUndefined();
  });
});

describe('cpuBudget', () => {
  const quotaOf = (cpuMax: string) => machine({ '/proc/self/cgroup': '0::/\n', '/proc/self/mountinfo': V2_MOUNT, '/sys/fs/cgroup/cpu.max': `${cpuMax}\n` });

  it("is the quota's whole CPUs, at least one, where it allows fewer than the process's affinity", () => {
    expect(cpuBudget(quotaOf('50000 100000'))).toBe(1);
    expect(cpuBudget(quotaOf('150000 100000'))).toBe(1);
    expect(cpuBudget(quotaOf(`${availableParallelism() * 100000} 100000`))).toBe(availableParallelism());
  });

  it("is availableParallelism() with no quota, or a quota larger than it", () => {
    expect(cpuBudget(quotaOf('max 100000'))).toBe(availableParallelism());
    expect(cpuBudget(quotaOf(`${(availableParallelism() + 4) * 100000} 100000`))).toBe(availableParallelism());
  });
});
