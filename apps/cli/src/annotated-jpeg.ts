import type { IgnoredRegions } from '@iev/detection-pipeline';
import { encodeAnnotatedJpeg, regionOutlines, type Annotation } from '@iev/frame-annotation';
import type { ImageView } from '@iev/text-detection';

/**
 * A picture as `--annotate` writes it (detect and eval alike): `annotations` drawn over the `--ignore-regions` of
 * `sourceId` shaded as the preview shades a camera's, so a box missing there reads as left out on purpose.
 */
export function encodeAnnotatedPicture(image: ImageView, annotations: readonly Annotation[], ignored: IgnoredRegions | undefined, sourceId: string): Promise<Buffer> {
  const shaded = regionOutlines(ignored?.regionsOf(sourceId) ?? [], image.width, image.height);
  return encodeAnnotatedJpeg(image, annotations, undefined, shaded);
}
