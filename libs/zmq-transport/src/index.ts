export { ServerZmq, ZMQ_TRANSPORT, type MalformedMessage, type ServerZmqOptions, type ZmqServerEvents, type ZmqServerStats } from './lib/server-zmq';
export { ClientZmq, type ClientZmqOptions, type ZmqClientEvents } from './lib/client-zmq';
export { ZmqContext } from './lib/zmq-context';
export { ZmqStatus, type ZmqSocketEvents } from './lib/zmq-socket';
export { jsonCodec } from './lib/codecs';
