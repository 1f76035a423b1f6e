import { randomUUID } from 'node:crypto';
import { Pull, Push } from 'zeromq';
import { releaseReceived } from './received-part';

describe('releaseReceived', () => {
  it('empties a large part received over a real socket, so its message is freed now', async () => {
    const endpoint = `inproc://release-${randomUUID()}`;
    const push = new Push();
    const pull = new Pull();
    await push.bind(endpoint);
    pull.connect(endpoint);
    try {
      await push.send([Buffer.from('header'), Buffer.alloc(640 * 480 * 3, 7)]);
      const [header, pixels] = await pull.receive();

      expect(pixels[1000]).toBe(7);
      expect(releaseReceived(pixels)).toBe(true);
      expect(pixels.length).toBe(0);
      expect(releaseReceived(pixels)).toBe(false);
      expect(header.toString()).toBe('header');
    } finally {
      push.close();
      pull.close();
    }
  });
});
