import type { TwinSettings } from '@iev/iot-edge';
import type { IotEdgeSink } from '@iev/telemetry-sinks';
import { refuseAggregationBesideEvents, telemetryTwinSpec, type TelemetryConfig } from './telemetry.config';

type TelemetryTwinSettings = TwinSettings<typeof telemetryTwinSpec>;

/**
 * What telemetry's twin may change: upstream, the aggregation. With events, only to the values that mean none (a
 * fleet's twin setting `aggregateFrames: 1` everywhere is no error), as the variables are refused beside them. On the
 * console: nothing.
 */
export function telemetryTwinSettings(config: TelemetryConfig, upstream: Pick<IotEdgeSink, 'configure'> | undefined): TelemetryTwinSettings | undefined {
  if (!upstream) return undefined;
  const startup = { aggregateFrames: config.aggregateFrames, aggregateIntervalMs: config.aggregateIntervalMs };
  if (config.events === 'on') {
    return { spec: telemetryTwinSpec, startup, apply: (_changes, next) => refuseAggregationBesideEvents(next, { frames: 'aggregateFrames', intervalMs: 'aggregateIntervalMs' }) };
  }
  return { spec: telemetryTwinSpec, startup, apply: (_changes, next) => upstream.configure({ frames: next.aggregateFrames, intervalMs: next.aggregateIntervalMs }) };
}
