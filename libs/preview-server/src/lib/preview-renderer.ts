import { detectionAnnotations, encodeAnnotatedJpeg } from '@iev/frame-annotation';
import type { PreviewSources, SourcePicture } from './preview-sources';

export interface RenderedJpeg {
  /** The picture's key (SourcePicture.key). */
  key: string;
  jpeg: Buffer;
  sequence: number;
  paired: boolean;
}

/**
 * Each source's picture as an annotated JPEG, encoded only when asked for (a client watching or fetching) and at
 * most once per picture: callers asking meanwhile share the encoding under way.
 */
export class PreviewRenderer {
  private readonly cache = new Map<string, { key: string; rendered: Promise<RenderedJpeg> }>();
  encoded = 0;

  constructor(
    private readonly sources: PreviewSources,
    private readonly quality = 80,
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
    const jpeg = await encodeAnnotatedJpeg(picture.image, detectionAnnotations(picture.boxes), this.quality);
    this.encoded++;
    return { key: picture.key, jpeg, sequence: picture.sequence, paired: picture.paired };
  }
}
