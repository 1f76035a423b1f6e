import { VideoFileSource } from '@iev/capture-sources';
import type { ImageView } from '@iev/text-detection';

export interface DecodedFrame {
  index: number;
  image: ImageView;
}

/** Every frame of an image (PNG, JPEG, ...) or video file as BGR, decoded by ffmpeg as fast as it can. */
export async function* decodeFile(path: string): AsyncGenerator<DecodedFrame> {
  const source = new VideoFileSource({ path, sourceId: path, loop: false, realtime: false });
  let index = 0;
  for await (const { header, pixels } of source.frames()) {
    yield { index: index++, image: { data: pixels, width: header.width, height: header.height, stride: header.stride } };
  }
}
