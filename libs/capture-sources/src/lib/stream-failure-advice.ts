import { credentialsInUrl } from '@iev/service-runtime';
import type { FailureAdviser } from './decoder-source';
import { settingBeside } from './setting-beside';
import { hostOf, isHlsPlaylist, isHttpUrl, isRtspUrl, urlScheme } from './stream-url';

/** How ffmpeg says an HTTP or RTSP server refused the request for want of the right user and password. */
const CREDENTIALS_REFUSED = /\b401 Unauthorized\b/;
/** How ffmpeg says the server knows who asks and forbids them the stream (a user without the right, or a wrong path). */
const FORBIDDEN = /\b403 Forbidden\b/;

/** How ffmpeg says nothing accepted the connection, the server has no such stream, or the host name did not resolve. */
const CONNECTION_REFUSED = /\bConnection refused\b/;
const NOT_FOUND = /\b404 Not Found\b/;
const NAME_NOT_RESOLVED = /\bFailed to resolve hostname\b/;
/**
 * The server takes no more clients now: how cameras say they serve as many streams as they can (RTSP's "method SETUP
 * failed: 503 ...", HTTP's "HTTP error 503 ...", or RTSP's 453 Not Enough Bandwidth); by the code, as the reason's
 * words are the camera's own.
 */
const NO_MORE_CLIENTS = /\b(?:failed: (?:503|453)|HTTP error 503)\b/;

/** RTSP's own refusals, as ffmpeg says them ("method SETUP failed: 461 Unsupported transport"; gst-rtsp-server's spelling). */
const SESSION_NOT_FOUND = /\b454 Session Not Found\b/i;
const UNSUPPORTED_TRANSPORT = /\b461 Unsupported Transport\b/i;
/**
 * All ffmpeg says of an RTSP server that took the connection and closed it, or said nothing within its socket timeout,
 * or answered something other than RTSP (an HTTP server's port): that line alone.
 */
const NO_RTSP_ANSWER = /^rtsps?:[^|]*: Invalid data found when processing input$/;
/** ffmpeg, over UDP, given the stream's description but none of its packets within the socket timeout. */
const NO_PACKETS = /\bCould not find codec parameters for stream\b/;

/**
 * Advice on a stream's failure that names its setting (CAMERA_PATH, a twin's source). A server that asks for a user and
 * password, and was given wrong ones or none, or forbids the user the stream, is retried at the longest delay: the
 * camera's password or rights may be what changes, and cameras lock an account after a few refused logins; as is an
 * RTSP camera that refuses the transport CAPTURE_RTSP_TRANSPORT asks for. A camera that is off, restarting or serving as
 * many clients as it takes, a path not published yet (a relay such as MediaMTX answers 404 until its camera connects)
 * and a name a network coming up cannot resolve yet mend themselves, so those are retried as usual; the advice says what
 * to check should they stay so.
 */
export function streamFailureAdvice(url: string, setting = 'the URL', rtspTransport: 'tcp' | 'udp' = 'tcp'): FailureAdviser {
  const example = `${urlScheme(url).toLowerCase()}://user:password@host/...`;
  const texts = {
    authority: `the camera refused the user and password in ${setting}`,
    // Some cameras take them in the query (?user=..&pwd=..), which cannot then be said to give none.
    query: `the camera refused the request: check the user and password ${setting} gives (${example}, or in its query)`,
    none: `the camera asks for a user and password, and ${setting} gives none (${example})`,
  };
  const credentialsGiven = credentialsInUrl(url);
  const credentials = texts[credentialsGiven ?? 'none'];
  const forbidden = `the camera forbids that stream: check the path in ${setting}, and ${credentialsGiven ? "that the user it gives may view it (the camera's user rights)" : `whether it takes a user and password (${example})`}`;
  const host = hostOf(url);
  const otherTransport = rtspTransport === 'tcp' ? 'udp' : 'tcp';
  const transportSetting = settingBeside(setting, 'CAPTURE_RTSP_TRANSPORT');
  return (lastWords, framesDecoded) => {
    if (CREDENTIALS_REFUSED.test(lastWords)) return { text: credentials, awaitsSettings: true };
    if (FORBIDDEN.test(lastWords)) return { text: forbidden, awaitsSettings: true };
    if (CONNECTION_REFUSED.test(lastWords)) return { text: `nothing accepts connections at ${host}: the camera may be off or restarting (retried meanwhile), or ${setting} names the wrong host or port`, awaitsSettings: false };
    if (NOT_FOUND.test(lastWords)) return { text: `the server has no stream at that path: check the path in ${setting}, or the stream is not published yet (retried meanwhile)`, awaitsSettings: false };
    if (NAME_NOT_RESOLVED.test(lastWords)) return { text: `${host} does not resolve: check the host name in ${setting} (retried meanwhile, as a network coming up may not resolve it yet)`, awaitsSettings: false };
    if (NO_MORE_CLIENTS.test(lastWords)) {
      const holders = 'a camera serves a few at once: other viewers, a recorder, or the session of one killed, until the camera times it out';
      return { text: `${host} takes no more clients now (${holders}): retried meanwhile; should it stay so, stop one, or share the camera through a relay (MediaMTX, go2rtc)`, awaitsSettings: false };
    }
    if (!isRtspUrl(url)) return undefined;
    if (UNSUPPORTED_TRANSPORT.test(lastWords)) return { text: `${host} refuses RTSP over ${rtspTransport.toUpperCase()}, which ${transportSetting} asks for: set it to ${otherTransport}`, awaitsSettings: true };
    // Mid-stream the same words tell of a stream that broke off, not of a session just set up or a port that is no RTSP one.
    if (framesDecoded > 0) return undefined;
    if (SESSION_NOT_FOUND.test(lastWords)) return { text: `${host} dropped the session it had just set up (as a camera or relay restarting does): retried meanwhile`, awaitsSettings: false };
    if (NO_RTSP_ANSWER.test(lastWords)) {
      const text = `${host} took the connection but gave no RTSP answer (it closed it, or said nothing for ${settingBeside(setting, 'CAPTURE_STREAM_TIMEOUT')}): check that ${setting} names the camera's RTSP port (554 unless set otherwise); retried meanwhile`;
      return { text, awaitsSettings: false };
    }
    // Over TCP the same words tell of a picture ffmpeg cannot read, not of packets dropped on the way.
    if (rtspTransport === 'udp' && NO_PACKETS.test(lastWords)) {
      return { text: `no video came from ${host} over UDP, which ${transportSetting} asks for (a firewall or NAT on the way may drop it): retried meanwhile; set it to tcp`, awaitsSettings: false };
    }
    return undefined;
  };
}

/** How ffmpeg's `mpjpeg` fails on a multipart stream whose parts it cannot split (docs/capture/stream.md, MJPEG cameras). */
const MJPEG_PARTS_NOT_SPLIT = /\bExpected boundary\b|\bCould not find codec parameters for stream \d+ \(Video: mjpeg\b/;
/** How it fails on a boundary line without its leading `--`, as on anything else that is no video it knows. */
const NOT_VIDEO = /\bInvalid data found when processing input\b/;

/**
 * Advice on an HTTP(S) stream read by the demuxer its Content-Type picks (CAPTURE_STREAM_FORMAT=auto) that failed as
 * ffmpeg fails on an MJPEG camera it cannot split into pictures: CAPTURE_STREAM_FORMAT=mjpeg reads it, set for the
 * camera the setting (CAMERA_PATH, a CAPTURE_SOURCES entry's, a twin's source) names. ffmpeg's words cannot tell a
 * boundary it did not find from a page that is no video (a login page sent as 200), so that failure is told as either.
 */
export function mjpegSplitAdvice(url: string, setting = 'the URL'): FailureAdviser {
  const remedy = `${settingBeside(setting, 'CAPTURE_STREAM_FORMAT')}=mjpeg reads its pictures as bare JPEGs`;
  return (lastWords, framesDecoded) => {
    if (!isHttpUrl(url) || isHlsPlaylist(url)) return undefined;
    // npm's ffmpeg 4.1 reads a first part without Content-Length, then fails on the next; past that, a stream that was
    // split broke off (a part whose Content-Length was wrong), which the setting does not mend.
    if (MJPEG_PARTS_NOT_SPLIT.test(lastWords) && framesDecoded <= 1) return { text: `ffmpeg could not split this MJPEG camera's multipart stream: ${remedy}`, awaitsSettings: false };
    // Past the first frames the same words tell of a stream that broke off, not of one never split.
    if (NOT_VIDEO.test(lastWords) && framesDecoded === 0) return { text: `an MJPEG camera ffmpeg could not split (${remedy}), or no video at that URL (a login or status page)`, awaitsSettings: false };
    return undefined;
  };
}
