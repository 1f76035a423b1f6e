import type { TextDetector } from '@iev/detection-pipeline';
import { decodeFile } from '../media';
import { round } from '../stats';

/** `detect [--json] <files...>`: one line (or JSON object) per image or video frame. */
export async function detect(detector: TextDetector, files: string[], json: boolean, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  for (const file of files) {
    for await (const { index, image } of decodeFile(file)) {
      const result = await detector.detect(image);
      const timings = {
        preprocessMs: round(result.timings.preprocessMs),
        inferenceMs: round(result.timings.inferenceMs),
        postprocessMs: round(result.timings.postprocessMs),
      };
      if (json) {
        out.write(`${JSON.stringify({ source: file, frame: index, width: image.width, height: image.height, boxes: result.boxes, timings })}\n`);
      } else {
        out.write(
          `${file} #${index} ${image.width}x${image.height}: ${result.boxes.length} boxes` +
            ` (preprocess ${timings.preprocessMs} ms, inference ${timings.inferenceMs} ms, postprocess ${timings.postprocessMs} ms)\n`,
        );
      }
    }
  }
}
