import { IgnoredRegions } from '@iev/detection-pipeline';
import { regionsCodec, REGIONS_TOPIC } from '@iev/frame-protocol';
import { freePort } from '@iev/testing';
import { ClientZmq } from '@iev/zmq-transport';
import { Publisher } from 'zeromq';
import { RegionsAnnouncer } from './regions-announcer';

describe('RegionsAnnouncer', () => {
  it('announces nothing once closed: a twin patch finishing after shutdown does not bind the detections socket again', async () => {
    const endpoint = `tcp://127.0.0.1:${await freePort()}`;
    const client = new ClientZmq({ endpoint, bind: true, codecs: { [REGIONS_TOPIC]: regionsCodec } });
    await client.connect();
    const failures: Error[] = [];
    const announcer = new RegionsAnnouncer(client, () => IgnoredRegions.NONE, (error) => failures.push(error), 60_000);
    const settled = () => new Promise((resolve) => setTimeout(resolve, 200));
    await settled(); // its first announcement sent
    announcer.close();
    await client.close();
    await settled(); // the port released

    // As main.ts's apply does, in its finally, when the patch outlived the module's close.
    announcer.announce();
    await settled();
    // The endpoint is free: a new inference (a restart) can bind it.
    const next = new Publisher({ linger: 0 });
    try {
      await next.bind(endpoint);
    } finally {
      next.close();
      await client.close();
    }
    expect(failures).toEqual([]);
  });
});
