import { maskCredentials } from './credentials';

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

  it('masks the value of every password property of a pipeline, quoted or not, keeping the key', () => {
    expect(maskCredentials('rtspsrc location=rtsp://cam/ch1 user-id=admin user-pw=s3cret! rtph264depay')).toBe('rtspsrc location=rtsp://cam/ch1 user-id=admin user-pw=***! rtph264depay');
    expect(maskCredentials('souphttpsrc proxy-pw="a b" password=\'c d\' passwd=e ! jpegdec')).toBe('souphttpsrc proxy-pw=*** password=*** passwd=*** ! jpegdec');
  });
});
