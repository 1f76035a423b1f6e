import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, posix } from 'node:path';

/**
 * The CPUs a cgroup quota lets this process use, e.g. 1.5 (Docker's `--cpus=1.5`, IoT Edge's `NanoCpus`): the
 * tightest limit on its group and the groups above it, from cgroup v2's `cpu.max` or v1's `cpu.cfs_quota_us` /
 * `cpu.cfs_period_us`; undefined where none is set or there are no cgroups (not Linux). Node's availableParallelism()
 * misses it where libuv does: a v1 hierarchy (libuv finds no `cpu` controller mounted on its own, and builds a
 * wrong path for `cpu,cpuacct`) and any quota under one CPU (it rounds 0.5 down to 0 and ignores it).
 * `root`: where /proc and /sys are found (a spec's copy of their files).
 */
export function cgroupCpuQuota(root = '/'): number | undefined {
  const read = (path: string) => {
    try {
      return readFileSync(join(root, path), 'utf8');
    } catch {
      return undefined;
    }
  };
  const memberships = read('/proc/self/cgroup');
  const mounts = read('/proc/self/mountinfo');
  if (memberships === undefined || mounts === undefined) return undefined;
  const group = cpuGroup(memberships, mounts);
  if (!group) return undefined;
  let tightest: number | undefined;
  // From the process's own group up to the mount's root: a parent's limit holds for every group under it.
  for (let dir = group.dir; ; dir = posix.dirname(dir)) {
    // v2: "<quota> <period>" in µs, or "max <period>"; v1: the quota (-1 for none) and the period in two files.
    const [quota, period] = group.version === 2 ? (read(`${dir}/cpu.max`) ?? '').trim().split(/\s+/) : [read(`${dir}/cpu.cfs_quota_us`), read(`${dir}/cpu.cfs_period_us`)];
    const cpus = Number(quota) > 0 && Number(period) > 0 ? Number(quota) / Number(period) : undefined;
    if (cpus !== undefined) tightest = Math.min(tightest ?? cpus, cpus);
    if (dir === group.mountPoint || dir === '/') return tightest;
  }
}

/**
 * The cores this process can keep busy: availableParallelism() (its CPU affinity), or a cgroup quota's CPUs where
 * that is less, rounded down as libuv rounds them (at least 1). Threads beyond a quota only take turns at it, and the
 * throttling holds every thread of the group, so a frame waits longer: measured on 2 cores at `--cpus=1`, two
 * streams took 200-230 ms (p99) a frame where one took 97-106, at the same fps.
 */
export function cpuBudget(root = '/'): number {
  const cores = availableParallelism();
  const quota = cgroupCpuQuota(root);
  return quota === undefined ? cores : Math.min(cores, Math.max(1, Math.floor(quota)));
}

interface CpuGroup {
  version: 1 | 2;
  /** Where the process's group is seen in the file system. */
  dir: string;
  mountPoint: string;
}

/**
 * The directory of the process's cpu group: a v1 hierarchy with the `cpu` controller, else the v2 one. A
 * container sees its group's path from the host (`/docker/<id>`) but has that group mounted as the hierarchy's root:
 * a path outside the mount's root is taken as the mount point itself.
 */
function cpuGroup(memberships: string, mountinfo: string): CpuGroup | undefined {
  const paths = memberships.split('\n').map((line) => /^\d+:([^:]*):(.*)$/.exec(line)).filter((match) => match !== null);
  const v1Path = paths.find(([, controllers]) => controllers.split(',').includes('cpu'))?.[2];
  const v2Path = paths.find(([, controllers]) => controllers === '')?.[2];
  for (const line of mountinfo.split('\n')) {
    // "36 25 0:31 <root> <mount point> <options> [optional fields] - <type> <source> <super options>"
    const [before, after] = line.split(' - ');
    if (!after) continue;
    const [, , , mountRoot, mountPoint] = before.split(' ');
    const [type, , superOptions = ''] = after.split(' ');
    const version = type === 'cgroup2' ? 2 : type === 'cgroup' && superOptions.split(',').includes('cpu') ? 1 : undefined;
    const path = version === 1 ? v1Path : version === 2 && v1Path === undefined ? v2Path : undefined;
    if (version === undefined || path === undefined) continue;
    const inside = mountRoot === '/' ? path : path === mountRoot || path.startsWith(`${mountRoot}/`) ? path.slice(mountRoot.length) : '/';
    return { version, dir: posix.join(unescapeMountPath(mountPoint), inside), mountPoint: unescapeMountPath(mountPoint) };
  }
  return undefined;
}

/** mountinfo writes a space, tab, newline or backslash in a path as an octal escape (`\040`). */
const unescapeMountPath = (path: string) => path.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
