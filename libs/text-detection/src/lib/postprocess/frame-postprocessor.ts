import type { DetectedBox, DetectionPreset } from '../types';
import { DbPostprocessor } from './db-postprocess';

/** The parts of a detection preset that postprocessing reads. */
export type PostprocessSettings = Pick<DetectionPreset, 'preResize' | 'postprocess'>;

/**
 * One frame's probability map into boxes in the frame's own pixels. A preset that first squashes frames to a fixed
 * size (the original sample's 960x960) gets boxes as the sample did — integer points in that squashed image — mapped
 * to the frame's pixels afterwards, so `seed` reproduces the sample box for box. Other presets postprocess straight
 * into the frame's pixels. Keeps its buffers between runs; not reentrant.
 */
export class FramePostprocessor {
  private readonly db = new DbPostprocessor();

  /**
   * Memory for the model to write `count` maps of mapWidth x mapHeight into (a batch's output, frame after frame),
   * which run() then reads where they are; a map anywhere else is copied in first. See PaddedBinaryImage.mapMemory.
   */
  mapMemory(mapWidth: number, mapHeight: number, count: number): Float32Array {
    return this.db.mapMemory(mapWidth, mapHeight, count);
  }

  run(probMap: Float32Array, mapWidth: number, mapHeight: number, frameWidth: number, frameHeight: number, settings: PostprocessSettings): DetectedBox[] {
    const squashed = settings.preResize;
    if (!squashed) return this.db.run(probMap, mapWidth, mapHeight, frameWidth, frameHeight, settings.postprocess);
    const boxes = this.db.run(probMap, mapWidth, mapHeight, squashed.width, squashed.height, settings.postprocess);
    const scaleX = frameWidth / squashed.width;
    const scaleY = frameHeight / squashed.height;
    for (const box of boxes) for (const point of box.points) {
      point[0] = Math.round(point[0] * scaleX);
      point[1] = Math.round(point[1] * scaleY);
    }
    return boxes;
  }
}
