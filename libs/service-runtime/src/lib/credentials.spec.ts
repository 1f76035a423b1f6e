import { credentialsInUrl, maskCredentials } from './credentials';

describe('maskCredentials', () => {
  it('masks the password of every URL in a text, and nothing else', () => {
    expect(maskCredentials('rtsp://admin:p@ss:w0rd@10.0.0.2/ch1: 401 Unauthorized; see http://docs/a:b')).toBe('rtsp://admin:***@10.0.0.2/ch1: 401 Unauthorized; see http://docs/a:b');
    expect(maskCredentials('rtmp://user@host/live and srt://:token@host:9000')).toBe('rtmp://user@host/live and srt://:***@host:9000');
  });

  it('masks the password of a user name with an @ in it, which ffmpeg splits off at the last @', () => {
    expect(maskCredentials('rtsp://viewer@example.com:s3cret@10.0.0.2/ch1 and rtsp://cam.local:554/a@b')).toBe('rtsp://viewer@example.com:***@10.0.0.2/ch1 and rtsp://cam.local:554/a@b');
  });

  it("masks a password given in a URL's query, as MJPEG cameras take it (videostream.cgi?user=admin&pwd=...)", () => {
    expect(maskCredentials('http://cam/videostream.cgi?user=admin&pwd=s3cret&rate=0: 401 Unauthorized')).toBe('http://cam/videostream.cgi?user=admin&pwd=***&rate=0: 401 Unauthorized');
    expect(maskCredentials('http://cam/mjpg/video.cgi?usr=admin&pass=s3cret')).toBe('http://cam/mjpg/video.cgi?usr=admin&pass=***');
    expect(maskCredentials('http://cam/videostream.cgi?loginuse=admin&loginpas=s3cret and http://cam/snap.cgi?user=a&psw=b')).toBe(
      'http://cam/videostream.cgi?loginuse=admin&loginpas=*** and http://cam/snap.cgi?user=a&psw=***',
    );
    expect(maskCredentials('srt://10.0.0.2:9000?streamid=cam1&passphrase=s3cret-phrase')).toBe('srt://10.0.0.2:9000?streamid=cam1&passphrase=***');
    expect(maskCredentials('http://nvr/ISAPI/Streaming/channels/101/picture?auth=YWRtaW46czNjcmV0')).toBe('http://nvr/ISAPI/Streaming/channels/101/picture?auth=***');
  });

  it('masks the password of a URL to an IPv6 host, or one after an = (a pipeline property)', () => {
    expect(maskCredentials('rtsp://admin:s3cret@[fe80::1]:554/ch1')).toBe('rtsp://admin:***@[fe80::1]:554/ch1');
    expect(maskCredentials('rtspsrc location=rtsp://admin:s3cret@cam/ch1')).toBe('rtspsrc location=rtsp://admin:***@cam/ch1');
  });

  it("masks the password of a URL percent-encoded in another URL's query (a proxy's ?src=), in either case, and keeps its escapes", () => {
    expect(maskCredentials('http://proxy/?src=rtsp%3A%2F%2Fuser%3Asecret%40cam%2Fstream: 404 Not Found')).toBe('http://proxy/?src=rtsp%3A%2F%2Fuser%3A***%40cam%2Fstream: 404 Not Found');
    expect(maskCredentials('http://proxy/?src=rtsp%3a%2f%2fviewer%40example.com%3ap%40ss%3aword%40cam&x=1')).toBe('http://proxy/?src=rtsp%3a%2f%2fviewer%40example.com%3a***%40cam&x=1');
    expect(maskCredentials('http://proxy/?src=http%3A%2F%2Fcam%2Fvideostream.cgi%3Fuser%3Dadmin%26pwd%3Ds%3Bcret%26rate%3D0')).toBe(
      'http://proxy/?src=http%3A%2F%2Fcam%2Fvideostream.cgi%3Fuser%3Dadmin%26pwd%3D***%26rate%3D0',
    );
    // Not a password: a colon in the encoded path, after the authority.
    expect(maskCredentials('http://proxy/?src=rtsp%3A%2F%2Fcam%2Fa%3Ab%40c')).toBe('http://proxy/?src=rtsp%3A%2F%2Fcam%2Fa%3Ab%40c');
  });

  it('takes time linear in the length of a long text of encoded URLs and escapes that never close', () => {
    const long = `?src=a%3A%2F%2F${'u%3Ap%25'.repeat(20_000)} ${'=b%3A%2F%2Fx%3A'.repeat(10_000)} ${'%26pwd%3D'.repeat(10_000)}`;
    const started = performance.now();
    maskCredentials(long);
    // Quadratic, this many characters (~420,000) take seconds; linear, a few milliseconds.
    expect(performance.now() - started).toBeLessThan(500);
  });

  it('masks the value of every password property of a pipeline, quoted or not, keeping the key', () => {
    expect(maskCredentials('rtspsrc location=rtsp://cam/ch1 user-id=admin user-pw=s3cret! rtph264depay')).toBe('rtspsrc location=rtsp://cam/ch1 user-id=admin user-pw=***! rtph264depay');
    expect(maskCredentials('souphttpsrc proxy-pw="a b" password=\'c d\' passwd=e ! jpegdec')).toBe('souphttpsrc proxy-pw=*** password=*** passwd=*** ! jpegdec');
  });
});

describe('credentialsInUrl', () => {
  it('tells where a URL gives its credentials: its authority, a password key of its query (those masked), or nowhere', () => {
    expect(credentialsInUrl('rtsp://admin:s3cret@cam/ch1')).toBe('authority');
    expect(credentialsInUrl('http://viewer@cam/video.mjpg')).toBe('authority');
    expect(credentialsInUrl('http://cam/videostream.cgi?user=admin&pwd=s3cret')).toBe('query');
    expect(credentialsInUrl('http://cam/snapshot.jpg?password=s3cret')).toBe('query');
    expect(credentialsInUrl('rtsp://cam/cam/realmonitor?channel=1&subtype=0')).toBeUndefined();
    expect(credentialsInUrl('http://cam/path@2x/video.mjpg')).toBeUndefined();
  });
});
