/** A video source could not start or stopped with an error; the message names the source and, where its decoder said why, its words. */
export class VideoSourceError extends Error {
  override readonly name = 'VideoSourceError';

  constructor(
    message: string,
    /**
     * Retrying cannot mend it until a setting changes (a camera that refuses the user and password): retried at the
     * longest delay at once, so a camera that locks an account after a few failed logins is not made to.
     */
    readonly awaitsSettings = false,
  ) {
    super(message);
  }
}
