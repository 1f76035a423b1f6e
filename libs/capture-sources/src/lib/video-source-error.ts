/** A video source could not start or stopped with an error; the message names the source and, where its decoder said why, its words. */
export class VideoSourceError extends Error {
  override readonly name = 'VideoSourceError';
}
