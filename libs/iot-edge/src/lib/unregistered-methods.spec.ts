import { SharedAccessKeyAuthenticationProvider, type MethodMessage } from 'azure-iot-device';
import { Mqtt } from 'azure-iot-device-mqtt';
import { onUnregisteredMethods, type UnregisteredMethodCall } from './unregistered-methods';

/**
 * Against the SDK's own MQTT transport, unconnected: what onUnregisteredMethods relies on of it. edge-module.spec.ts
 * has the whole path (edgeHub's topic, the transport's dispatch, the 501 answer) with a connected module.
 */
describe('onUnregisteredMethods (the SDK MQTT transport)', () => {
  const provider = SharedAccessKeyAuthenticationProvider.fromConnectionString(
    `HostName=hub.example;DeviceId=device;ModuleId=module;SharedAccessKey=${Buffer.from('key').toString('base64')}`,
  );
  afterAll(() => provider.stop());

  const call = (methodName: string, requestId?: string): Partial<MethodMessage> => ({ methods: { methodName }, requestId, body: Buffer.from('{}') });

  it('hands over the calls of methods no handler listens for, with a response for their request id, and leaves registered methods to their handler', () => {
    const transport = new Mqtt(provider);
    const heard: string[] = [];
    transport.onDeviceMethod('ping', () => heard.push('ping'));
    const unregistered: UnregisteredMethodCall[] = [];
    expect(onUnregisteredMethods(transport, ['ping'], (unheard) => unregistered.push(unheard))).toBe(true);

    expect(transport.emit('method_ping', call('ping', '1'))).toBe(true);
    expect(transport.emit('method_pnig', call('pnig', '2'))).toBe(false);
    expect(transport.emit('method_get?status', call('get?status'))).toBe(false);
    // A registered method without a request id ('ping#x' read up to the '#'): the SDK's handler would throw on it.
    expect(transport.emit('method_ping', call('ping'))).toBe(false);
    // Not a method call: left alone.
    transport.emit('inputMessage', 'input1', {});

    expect(heard).toEqual(['ping']);
    expect(unregistered.map(({ methodName, response }) => [methodName, response?.requestId])).toEqual([
      ['pnig', '2'],
      ['get?status', undefined],
      ['ping', undefined],
    ]);
  });

  // The SDK's topic parser throws on these out of its MQTT message handler, before any event: the process died of it.
  it("hands over, as the topic carries them, the calls the SDK reads no method name from (empty, or starting with '/', '#' or a backslash), and leaves other errors alone", () => {
    const transport = new Mqtt(provider);
    transport.onDeviceMethod('ping', () => {
      throw new Error('the handler failed');
    });
    const unregistered: UnregisteredMethodCall[] = [];
    expect(onUnregisteredMethods(transport, ['ping'], (unheard) => unregistered.push(unheard))).toBe(true);
    const deliver = (topic: string) => (transport as unknown as { _onDeviceMethod(topic: string, payload: Buffer): void })._onDeviceMethod(topic, Buffer.from('{}'));

    for (const name of ['/x', '', '//', '#x', '\\x', '/a b']) deliver(`$iothub/methods/POST/${name}/?$rid=7`);
    deliver('$iothub/methods/POST/');
    expect(unregistered.map(({ methodName, malformed, response }) => [methodName, malformed, response?.requestId])).toEqual([
      ['/x', true, '7'],
      ['', true, '7'],
      ['//', true, '7'],
      ['#x', true, '7'],
      ['\\x', true, '7'],
      ['/a b', true, '7'],
      ['', true, undefined],
    ]);
    expect(() => deliver('$iothub/methods/POST/ping/?$rid=8')).toThrow('the handler failed');
  });

  // The transport binds its method-topic handler at each connect (edgeHub's topics configured anew); the SDK's own
  // retry reconnects the same transport (_configureEndpoints stands for the connect here). The hook must hold at the
  // connection it was made on and at the next one.
  it("hands over a call the SDK reads no method name from through the transport's dispatch, at the connection hooked and after a reconnect", () => {
    const transport = new Mqtt(provider);
    const internals = transport as unknown as {
      _configureEndpoints(credentials: { deviceId: string; moduleId: string }): void;
      _dispatchMqttMessage(topic: string, payload: Buffer): void;
    };
    transport.onDeviceMethod('ping', () => undefined);
    const connect = () => internals._configureEndpoints({ deviceId: 'device', moduleId: 'module' });
    connect();
    const unregistered: UnregisteredMethodCall[] = [];
    expect(onUnregisteredMethods(transport, ['ping'], (unheard) => unregistered.push(unheard))).toBe(true);

    internals._dispatchMqttMessage('$iothub/methods/POST//x/?$rid=1', Buffer.from('{}'));
    connect();
    internals._dispatchMqttMessage('$iothub/methods/POST//x/?$rid=2', Buffer.from('{}'));
    expect(unregistered.map(({ methodName, response }) => [methodName, response?.requestId])).toEqual([
      ['/x', '1'],
      ['/x', '2'],
    ]);
  });

  // The SDK's onDeviceMethod listening under another name than method_<name>: the hook would hear every call,
  // registered ones too, and answer them 501 before their handler.
  it('hooks nothing where the registered methods are not heard under method_<name>', () => {
    const transport = new Mqtt(provider);
    transport.on('methodCall', () => undefined);
    const emit = transport.emit;
    expect(onUnregisteredMethods(transport, ['ping'], () => undefined)).toBe(false);
    expect(transport.emit).toBe(emit);
  });
});
