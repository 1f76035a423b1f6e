import type { IgnoredRegions, TextDetector, VideoTextReader } from '@iev/detection-pipeline';
import { detectionAnnotations } from '@iev/frame-annotation';
import { AnnotatedFiles } from '../annotated-files';
import { encodeAnnotatedPicture } from '../annotated-jpeg';
import { decodeFile } from '../media';
import { round } from '../stats';

export interface DetectOptions {
  json: boolean;
  /** A folder to write each image or video frame into, as JPEG with its boxes and text drawn, over its ignore regions shaded. */
  annotateDir?: string;
  /** Aborted when whoever reads the output has gone (`| head`): detect stops at its next frame. */
  signal?: AbortSignal;
  /** Boxes centred in these regions are left out before reading, as inference leaves out a camera's (--ignore-regions). */
  ignored?: IgnoredRegions;
}

/**
 * `detect [--json] [--annotate DIR] <files...>`: one line (or JSON object) per image or video frame, with the text
 * read when `reader` is given. A file that fails (not there, not a picture or video, broken) does not stop the
 * others: the files that failed are thrown at the end, each with its reason.
 */
export async function detect(
  detector: TextDetector,
  reader: VideoTextReader | undefined,
  files: string[],
  { json, annotateDir, signal, ignored }: DetectOptions,
  out: NodeJS.WritableStream = process.stdout,
): Promise<void> {
  const annotated = annotateDir === undefined ? undefined : new AnnotatedFiles(annotateDir, files);
  const failures: Error[] = [];
  for (const file of files) {
    if (signal?.aborted) break;
    await detectFile(file).catch((error: Error) => failures.push(error));
  }
  if (files.length === 1 && failures.length === 1) throw failures[0];
  if (failures.length > 0) throw new Error(`${failures.length} of ${files.length} files failed:\n  ${failures.map((error) => error.message).join('\n  ')}`);

  async function detectFile(file: string): Promise<void> {
    for await (const { index, image } of decodeFile(file)) {
      if (signal?.aborted) return;
      const result = await detector.detect(image);
      const split = ignored?.split(file, result.boxes, image.width, image.height);
      const detected = split?.kept ?? result.boxes;
      const reading = reader && (await reader.read({ sourceId: file, timeMs: 0, image, boxes: detected }));
      const boxes = reading?.boxes ?? detected;
      if (annotated) annotated.write(file, index, await encodeAnnotatedPicture(image, detectionAnnotations(boxes), ignored, file));
      const timings = {
        preprocessMs: round(result.timings.preprocessMs),
        inferenceMs: round(result.timings.inferenceMs),
        postprocessMs: round(result.timings.postprocessMs),
        ...(reading && { recognizeMs: round(reading.recognizeMs) }),
      };
      if (json) {
        out.write(`${JSON.stringify({ source: file, frame: index, width: image.width, height: image.height, boxes, ...(split && { ignored: split.ignored }), timings })}\n`);
      } else {
        const texts = reading ? `: ${boxes.map((box) => JSON.stringify(box.text)).join(', ')}` : '';
        const recognize = reading ? `, recognize ${timings.recognizeMs} ms` : '';
        const left = split ? `, ${split.ignored} in ignore regions` : '';
        out.write(
          `${file} #${index} ${image.width}x${image.height}: ${boxes.length} ${reading ? 'line' : 'box'}${boxes.length === 1 ? '' : reading ? 's' : 'es'}${texts}${left}` +
            ` (preprocess ${timings.preprocessMs} ms, inference ${timings.inferenceMs} ms, postprocess ${timings.postprocessMs} ms${recognize})\n`,
        );
      }
    }
  }
}
