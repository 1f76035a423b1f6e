import { Module, type DynamicModule } from '@nestjs/common';
import { MODULE_LOGGER } from '@iev/service-runtime';
import type { Logger } from 'pino';
import { DetectionsController } from './detections.controller';
import type { DetectionsSink } from '@iev/telemetry-sinks';
import { TelemetryMetrics } from './telemetry.metrics';
import { SINK } from './tokens';

@Module({})
export class TelemetryModule {
  static forRoot(dependencies: { sink: DetectionsSink; metrics: TelemetryMetrics; logger: Logger }): DynamicModule {
    return {
      module: TelemetryModule,
      controllers: [DetectionsController],
      providers: [
        { provide: SINK, useValue: dependencies.sink },
        { provide: TelemetryMetrics, useValue: dependencies.metrics },
        { provide: MODULE_LOGGER, useValue: dependencies.logger },
      ],
    };
  }
}
