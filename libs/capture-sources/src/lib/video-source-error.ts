/** A video source could not start or stopped with an error; the message names the file and, where ffmpeg said why, its words. */
export class VideoSourceError extends Error {
  override readonly name = 'VideoSourceError';
}
