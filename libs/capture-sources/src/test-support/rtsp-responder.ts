import { type AddressInfo, createServer, type Socket } from 'node:net';

/** The status line a method is answered with instead of 200 OK, e.g. { SETUP: '461 Unsupported transport' }. */
export type RtspRefusals = Partial<Record<'DESCRIBE' | 'SETUP' | 'PLAY', string>>;

export interface RtspResponder {
  /** rtsp://127.0.0.1:port/path, with the userinfo given (`viewer:s3cret@`). */
  url(userinfo?: string): string;
  close(): Promise<void>;
}

/** One H.264 video track, as a camera describes it; no media is ever sent. */
const SDP = ['v=0', 'o=- 0 0 IN IP4 127.0.0.1', 's=camera', 'c=IN IP4 0.0.0.0', 't=0 0', 'm=video 0 RTP/AVP 96', 'a=rtpmap:96 H264/90000', 'a=control:track1', ''].join('\r\n');

/**
 * An RTSP server on a real socket that answers just enough for ffmpeg to open a stream (OPTIONS, DESCRIBE, SETUP,
 * PLAY), and refuses the methods given with their status, as a camera does what a gst-rtsp-server cannot be made to
 * (403, 454). It sends no media: a stream it lets play is one whose packets never arrive (UDP blocked on the way).
 * 'silent' takes each connection and never answers; 'close' closes each at once.
 */
export async function startRtspResponder(behaviour: RtspRefusals | 'silent' | 'close'): Promise<RtspResponder> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket)).on('error', () => undefined);
    if (behaviour === 'close') socket.destroy();
    else if (behaviour !== 'silent') answerRequests(socket, behaviour);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (userinfo = '') => `rtsp://${userinfo}127.0.0.1:${port}/stream1`,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function answerRequests(socket: Socket, refusals: RtspRefusals): void {
  let received = '';
  socket.on('data', (data) => {
    received += data.toString('latin1');
    for (let end = received.indexOf('\r\n\r\n'); end >= 0; end = received.indexOf('\r\n\r\n')) {
      const request = received.slice(0, end);
      received = received.slice(end + 4);
      socket.write(answer(request, refusals));
    }
  });
}

function answer(request: string, refusals: RtspRefusals): string {
  const method = request.slice(0, request.indexOf(' ')) as keyof RtspRefusals | 'OPTIONS';
  const headers = [`CSeq: ${/^CSeq: *(\d+)/im.exec(request)?.[1]}`];
  const refusal = method === 'OPTIONS' ? undefined : refusals[method];
  if (refusal) return [`RTSP/1.0 ${refusal}`, ...headers, 'Content-Length: 0', '', ''].join('\r\n');
  let body = '';
  if (method === 'OPTIONS') headers.push('Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN');
  if (method === 'DESCRIBE') {
    body = SDP;
    headers.push('Content-Type: application/sdp');
  }
  // The transport the client asked for, taken as asked: its UDP ports then wait for packets that never come.
  if (method === 'SETUP') headers.push('Session: 12345678', /^Transport:.*$/im.exec(request)?.[0] ?? '');
  if (method === 'PLAY') headers.push('Session: 12345678');
  return ['RTSP/1.0 200 OK', ...headers, `Content-Length: ${body.length}`, '', body].join('\r\n');
}
