// The inference module's main-thread CPU per frame in its detection chain alone (the hand-off to the model's workers,
// and pre/postprocessing where the backend does not do them there), without capture or sockets: a quick before/after
// for changes to that path; and the whole process's (the model's workers included), to tell work removed from work moved.
//   SWC_NODE_PROJECT=tsconfig.base.json TS_NODE_PROJECT=tsconfig.base.json \
//     node -r @swc-node/register -r tsconfig-paths/register tools/scripts/detector-main-thread-cpu.ts [preset] [frames]
// Frames: testdata/text-frames/dev-a (640x480) in turn; streams and threads as the module's auto.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadTextDetector } from '@iev/detection-pipeline';
import { readBgrImage } from '@iev/testing';
import { readTextFrameSet } from '@iev/text-detection';

/** The main thread's CPU time so far (its task's utime + stime, in clock ticks of 10 ms). */
function mainThreadCpuMs(): number {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function main(preset = 'default', count = 60): Promise<void> {
  const images = readTextFrameSet(join(__dirname, '../../testdata/text-frames/dev-a')).map((frame) => readBgrImage(frame.path, frame.width, frame.height));
  const detector = await loadTextDetector({ preset, modelsDir: join(__dirname, '../../models'), backend: 'onnxruntime', useTensorRt: false, threads: 0 });
  // As the module's chain: a frame goes in whenever a stream is free; each is postprocessed when its map is out.
  const run = async (frames: number) => {
    const finished: Array<Promise<unknown>> = [];
    for (let i = 0; i < frames; i++) {
      await detector.whenReady();
      finished.push(detector.infer(images[i % images.length]).then((inferred) => inferred.finish()));
    }
    await Promise.all(finished);
  };
  await run(2 * detector.concurrency); // warm-up
  const cpuBefore = mainThreadCpuMs();
  const processBefore = process.cpuUsage();
  const started = performance.now();
  await run(count);
  const wallMs = performance.now() - started;
  const cpuMs = mainThreadCpuMs() - cpuBefore;
  const { user, system } = process.cpuUsage(processBefore);
  process.stdout.write(
    `${preset}: ${count} frames, main thread ${(cpuMs / count).toFixed(2)} ms CPU per frame (${((100 * cpuMs) / wallMs).toFixed(1)} % of a core), ` +
      `all threads ${((user + system) / 1000 / count).toFixed(1)} ms, ${((count * 1000) / wallMs).toFixed(2)} fps\n`,
  );
  await detector.backend.dispose();
}

void main(process.argv[2], process.argv[3] ? Number(process.argv[3]) : undefined);
