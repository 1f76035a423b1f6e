import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from 'pino';
import { DetectionsController } from './detections.controller';
import type { DetectionsSink } from './sinks';
import { TelemetryMetrics } from './telemetry.metrics';
import { LOGGER, SINK } from './tokens';

@Module({})
export class TelemetryModule {
  static forRoot(dependencies: { sink: DetectionsSink; metrics: TelemetryMetrics; logger: Logger }): DynamicModule {
    return {
      module: TelemetryModule,
      controllers: [DetectionsController],
      providers: [
        { provide: SINK, useValue: dependencies.sink },
        { provide: TelemetryMetrics, useValue: dependencies.metrics },
        { provide: LOGGER, useValue: dependencies.logger },
      ],
    };
  }
}
