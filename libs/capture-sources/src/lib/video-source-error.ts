/** A video source could not start or stopped with an error; the message names the source and, where its decoder said why, its words. */
export class VideoSourceError extends Error {
  override readonly name = 'VideoSourceError';
}

/** Masks the password of every URL in the text ("rtsp://admin:***@camera/..."), as messages end up in logs. */
export function maskUrlCredentials(text: string): string {
  return text.replace(/\b([a-z][\w+.-]*:\/\/[^\s/@:]*):[^\s/]*@/gi, '$1:***@');
}
