import type { DetectedBox } from '@iev/frame-protocol';
import { detectionAnnotations, encodeAnnotatedJpeg, encodeFrameJpeg } from '@iev/frame-annotation';
import type { PreviewSources, SourcePicture } from './preview-sources';

export interface RenderedJpeg {
  /** The picture's key (SourcePicture.key). */
  key: string;
  jpeg: Buffer;
  sequence: number;
  paired: boolean;
  width: number;
  height: number;
  boxes: readonly DetectedBox[];
}

/** How a picture becomes a JPEG. */
export type PictureEncoder = (picture: SourcePicture) => Promise<Buffer>;

/** Outlines and labels drawn in (~30 ms at 640×480): for latest.jpg, stream.mjpeg and snapshots, seen anywhere. */
export const annotatedJpeg =
  (quality = 80): PictureEncoder =>
  (picture) =>
    encodeAnnotatedJpeg(picture.image, detectionAnnotations(picture.boxes), quality);

/** The frame alone (~4 ms at 640×480): the page draws the boxes itself, from the description sent beside it. */
export const plainJpeg =
  (quality = 75): PictureEncoder =>
  (picture) =>
    encodeFrameJpeg(picture.image, quality);

/**
 * Each source's picture as a JPEG, encoded only when asked for (a client watching or fetching) and at most once per
 * picture: callers asking meanwhile share the encoding under way.
 */
export class PreviewRenderer {
  private readonly cache = new Map<string, { key: string; rendered: Promise<RenderedJpeg> }>();
  encoded = 0;

  constructor(
    private readonly sources: PreviewSources,
    private readonly encode: PictureEncoder,
  ) {}

  /** Undefined while the source has no frame yet. */
  latest(sourceId: string): Promise<RenderedJpeg> | undefined {
    const picture = this.sources.picture(sourceId);
    if (!picture) return undefined;
    const cached = this.cache.get(sourceId);
    if (cached?.key === picture.key) return cached.rendered;
    const rendered = this.render(picture);
    this.cache.set(sourceId, { key: picture.key, rendered });
    // A failed encoding is not kept: the next request tries again.
    rendered.catch(() => this.cache.get(sourceId)?.rendered === rendered && this.cache.delete(sourceId));
    return rendered;
  }

  private async render(picture: SourcePicture): Promise<RenderedJpeg> {
    const jpeg = await this.encode(picture);
    this.encoded++;
    const { key, sequence, paired, image, boxes } = picture;
    return { key, jpeg, sequence, paired, width: image.width, height: image.height, boxes };
  }
}
