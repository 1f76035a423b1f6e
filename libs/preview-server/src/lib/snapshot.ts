import { detectionAnnotations, encodeBoundedJpeg, jpegBytesForBase64Payload, METHOD_PAYLOAD_LIMIT_BYTES } from '@iev/frame-annotation';
import type { PreviewSources } from './preview-sources';

/** The getSnapshot direct method's answer. */
export interface Snapshot {
  sourceId: string;
  sequence: number;
  /** The boxes are this frame's own (see SourcePicture.paired). */
  paired: boolean;
  boxes: number;
  width: number;
  height: number;
  quality: number;
  /** The annotated frame, its camera's ignore regions shaded, base64. */
  jpeg: string;
}

/** Room for the JSON around the base64 picture (field names, a long source id, numbers). */
const SNAPSHOT_JSON_BYTES = 1024;

/**
 * The newest annotated picture of `sourceId` (default: the first source with a frame) as a direct method payload:
 * the JPEG made small enough (quality, then size) that the whole JSON answer fits IoT Hub's 128 KB. A null `sourceId`
 * (a payload's `{"sourceId": null}`) is none given.
 */
export async function takeSnapshot(sources: PreviewSources, sourceId?: string | null): Promise<Snapshot> {
  // A mistyped id (`Camera0`) would otherwise be told to wait for a frame that never comes; the page answers it 404.
  if (sourceId != null && !sources.has(sourceId)) {
    throw new Error(`no such source: ${sourceId} (sources: ${sources.sourceIds().join(', ') || 'none yet'})`);
  }
  const id = sourceId ?? sources.sourceIds().find((candidate) => sources.picture(candidate));
  const picture = id === undefined ? undefined : sources.picture(id);
  if (!picture) throw new Error(id === undefined ? 'no frame yet from any source' : `waiting for ${id}: no frame yet`);
  const maxBytes = jpegBytesForBase64Payload(METHOD_PAYLOAD_LIMIT_BYTES, SNAPSHOT_JSON_BYTES);
  const release = picture.hold();
  const { jpeg, width, height, quality } = await encodeBoundedJpeg(picture.image, detectionAnnotations(picture.boxes), maxBytes, picture.regions).finally(release);
  return { sourceId: picture.sourceId, sequence: picture.sequence, paired: picture.paired, boxes: picture.boxes.length, width, height, quality, jpeg: jpeg.toString('base64') };
}
