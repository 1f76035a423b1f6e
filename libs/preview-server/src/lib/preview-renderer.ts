import type { DetectedBox } from '@iev/frame-protocol';
import type { RegionOutline } from './announced-regions';
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
  regions: RegionOutline[];
  /** Changes whenever the regions do (SourcePicture.regionsKey). */
  regionsKey: string;
  /** SourcePicture.regionsVersion. */
  regionsVersion: number;
}

/** How a picture becomes a JPEG. */
export interface PictureEncoder {
  encode(picture: SourcePicture): Promise<Buffer>;
  /** Whether two pictures make the same JPEG: the later one then reuses the earlier one's. */
  sameJpeg(earlier: SourcePicture, later: SourcePicture): boolean;
}

/**
 * Outlines and labels drawn in (~20-25 ms at 640×480), over the camera's ignore regions shaded as the page shades
 * them: for latest.jpg and stream.mjpeg, seen anywhere.
 */
export const annotatedJpeg = (quality = 80): PictureEncoder => ({
  encode: (picture) => encodeAnnotatedJpeg(picture.image, detectionAnnotations(picture.boxes), quality, picture.regions),
  sameJpeg: (earlier, later) => earlier.key === later.key && earlier.image === later.image,
});

/**
 * The frame alone (~3 ms at 640×480): the page draws the boxes itself, from the description sent beside it. A frame
 * shown first with the newest boxes and then with its own (or with newer ones) is encoded once.
 */
export const plainJpeg = (quality = 75): PictureEncoder => ({
  encode: (picture) => encodeFrameJpeg(picture.image, quality),
  sameJpeg: (earlier, later) => earlier.image === later.image,
});

/**
 * Each source's picture as a JPEG, encoded only when asked for (a client watching or fetching) and at most once per
 * picture: callers asking meanwhile share the encoding under way.
 */
export class PreviewRenderer {
  private readonly cache = new Map<string, { picture: SourcePicture; jpeg: Promise<Buffer>; rendered: Promise<RenderedJpeg> }>();
  encoded = 0;

  constructor(
    private readonly sources: PreviewSources,
    private readonly encoder: PictureEncoder,
  ) {
    // Its JPEG and the picture it was made of (a frame's pixels) go with a forgotten source.
    sources.onForget((sourceId) => this.cache.delete(sourceId));
  }

  /** Undefined while the source has no frame yet. */
  latest(sourceId: string): Promise<RenderedJpeg> | undefined {
    const picture = this.sources.picture(sourceId);
    if (!picture) return undefined;
    const cached = this.cache.get(sourceId);
    if (cached?.picture.key === picture.key && cached.picture.image === picture.image) return cached.rendered;
    const jpeg = cached && this.encoder.sameJpeg(cached.picture, picture) ? cached.jpeg : this.encode(picture);
    const { key, sequence, paired, image, boxes, regions, regionsKey, regionsVersion } = picture;
    const rendered = jpeg.then((jpeg) => ({ key, jpeg, sequence, paired, width: image.width, height: image.height, boxes, regions, regionsKey, regionsVersion }));
    this.cache.set(sourceId, { picture, jpeg, rendered });
    // A failed encoding is not kept: the next request tries again.
    rendered.catch(() => this.cache.get(sourceId)?.rendered === rendered && this.cache.delete(sourceId));
    return rendered;
  }

  private async encode(picture: SourcePicture): Promise<Buffer> {
    const release = picture.hold();
    try {
      const jpeg = await this.encoder.encode(picture);
      this.encoded++;
      return jpeg;
    } finally {
      release();
    }
  }
}
