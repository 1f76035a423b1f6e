import { execFileSync } from 'node:child_process';
import { type AddressInfo, createServer, type Socket } from 'node:net';

export interface SilencingCamera {
  /** A GStreamer pipeline that reads it: tcpclientsrc, which has no timeout of its own, so gst-launch waits for good. */
  pipeline: string;
  /** Connections taken so far: each restart of the pipeline is one more. */
  connections(): number;
  close(): void;
}

/**
 * A camera on a TCP socket that sends a second of 64x48 JPEGs (multipart, as an MJPEG camera) on each connection,
 * then keeps it open and says nothing: a pipeline reading it stalls mid-stream without failing or exiting.
 */
export async function startSilencingCamera(): Promise<SilencingCamera> {
  const jpegs = execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=64x48:rate=20', '-t', '1', '-c:v', 'mjpeg', '-f', 'mpjpeg', '-']);
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket)).on('error', () => undefined);
    socket.write(jpegs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    pipeline: `tcpclientsrc host=127.0.0.1 port=${(server.address() as AddressInfo).port} ! multipartdemux ! jpegdec ! appsink`,
    connections: () => connections,
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}
