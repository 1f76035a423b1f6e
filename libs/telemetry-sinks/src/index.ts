export * from './lib/console-sink';
export * from './lib/detections-aggregator';
export * from './lib/iot-edge-sink';
export * from './lib/text-events';
