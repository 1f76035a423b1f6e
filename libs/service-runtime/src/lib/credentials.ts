/** A GStreamer element's password property (rtspsrc's and souphttpsrc's user-pw and proxy-pw, ...) with its value, quoted or not. */
const PASSWORD_PROPERTY = /\b((?:user|proxy)-pw|password|passwd)=("[^"]*"|'[^']*'|[^\s!]+)/gi;
/**
 * A URL's user and password: the user may hold an @ (an e-mail address), as ffmpeg takes everything before the last @
 * of the authority for them.
 */
const URL_PASSWORD = /(?<![\w+.-])([a-z][\w+.-]*:\/\/[^\s/:]*):[^\s/]*@/gi;
/**
 * A password in a URL's query, as MJPEG cameras take it (`videostream.cgi?user=admin&pwd=...`, `loginpas=`, `psw=`),
 * Hikvision's snapshots theirs (`auth=`, base64 of user:password) and SRT its `passphrase=`; password= is masked as a
 * property.
 */
const QUERY_PASSWORD_KEYS = 'pwd|pass|psw|loginpas|passphrase|auth';
const QUERY_PASSWORD = new RegExp(`([?&](?:${QUERY_PASSWORD_KEYS})=)[^&\\s#]*`, 'gi');
/**
 * The same two percent-encoded, as a URL carried in another's query is (`http://proxy/?src=rtsp%3A%2F%2Fuser%3Apw%40cam`):
 * the authority ends at an encoded slash, the query value at an encoded &. Each part takes either a plain character or
 * one escape, never both, so a text that never closes one is scanned once.
 */
const ENCODED_URL_PASSWORD = /(?<![\w+.-])([a-z][\w+.-]*%3A%2F%2F(?:[^\s/%&#]|%(?!3A|2F)[\da-f]{2})*%3A)(?:[^\s/%&#]|%(?!2F)[\da-f]{2})*(%40)/gi;
const ENCODED_QUERY_PASSWORD = new RegExp(`((?:%3F|%26)(?:${QUERY_PASSWORD_KEYS})%3D)(?:[^&\\s#%]|%(?!26)[\\da-f]{2})*`, 'gi');
/** A URL that gives a user (and maybe a password) in its authority, or a password in its query (as masked). */
const URL_USER = /^[a-z][\w+.-]*:\/\/[^\s/?#]*@/i;
const URL_QUERY_PASSWORD = new RegExp(`[?&](?:${QUERY_PASSWORD_KEYS}|password|passwd)=`, 'i');

/** Where a URL gives its credentials: in its authority (`user:password@`), in its query (`?user=..&pwd=..`), or nowhere. */
export function credentialsInUrl(url: string): 'authority' | 'query' | undefined {
  if (URL_USER.test(url)) return 'authority';
  return URL_QUERY_PASSWORD.test(url) ? 'query' : undefined;
}

/**
 * Masks the password of every URL in the text ("rtsp://admin:***@camera/...", "...?user=admin&pwd=***"), plain or
 * percent-encoded in another URL ("?src=rtsp%3A%2F%2Fadmin%3A***%40camera"), and of every
 * password property of a pipeline ("rtspsrc user-id=admin user-pw=***"), as messages end up in logs.
 */
export function maskCredentials(text: string): string {
  return text
    .replace(URL_PASSWORD, '$1:***@')
    .replace(QUERY_PASSWORD, '$1***')
    .replace(ENCODED_URL_PASSWORD, '$1***$2')
    .replace(ENCODED_QUERY_PASSWORD, '$1***')
    .replace(PASSWORD_PROPERTY, '$1=***');
}
