export { ZmqEventServer, ZMQ_TRANSPORT, type MalformedMessage, type ZmqServerEvents, type ZmqServerStats } from './lib/zmq-event-server';
export { ServerZmq, type ServerZmqOptions } from './lib/server-zmq';
export { ServerZmqOnDemand, type ServerZmqOnDemandOptions, type ZmqOnDemandServerStats } from './lib/server-zmq-on-demand';
export { ClientZmq, type ClientZmqOptions } from './lib/client-zmq';
export { ClientZmqOnDemand, type ClientZmqOnDemandOptions, type ZmqOnDemandClientStats } from './lib/client-zmq-on-demand';
export { type ZmqClientEvents } from './lib/zmq-client-proxy';
export { ZmqContext } from './lib/zmq-context';
export { ZmqStatus, type ZmqSocketEvents } from './lib/zmq-socket';
export { jsonCodec } from './lib/codecs';
