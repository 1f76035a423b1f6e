/** A GStreamer element's password property (rtspsrc's and souphttpsrc's user-pw and proxy-pw, ...) with its value, quoted or not. */
const PASSWORD_PROPERTY = /\b((?:user|proxy)-pw|password|passwd)=("[^"]*"|'[^']*'|[^\s!]+)/gi;

/**
 * Masks the password of every URL in the text ("rtsp://admin:***@camera/...") and of every password property of a
 * pipeline ("rtspsrc user-id=admin user-pw=***"), as messages end up in logs.
 */
export function maskCredentials(text: string): string {
  return text.replace(/\b([a-z][\w+.-]*:\/\/[^\s/@:]*):[^\s/]*@/gi, '$1:***@').replace(PASSWORD_PROPERTY, '$1=***');
}
