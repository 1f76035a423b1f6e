import sharp from 'sharp';

/**
 * Caps the threads libvips gives each image (sharp.concurrency) at `cores`, at least 1: its own default counts the
 * machine's cores, not a container's CPU quota (cpuBudget), and threads beyond the quota only wait. Never raises it:
 * sharp keeps 1 on glibc without jemalloc, against memory fragmentation. Returns the threads it now uses.
 */
export function limitEncodingThreads(cores: number): number {
  return sharp.concurrency(Math.max(1, Math.min(sharp.concurrency(), cores)));
}
