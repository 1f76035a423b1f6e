import { Module, type DynamicModule } from '@nestjs/common';
import type { ClientProxy } from '@nestjs/microservices';
import { TextDetector } from '@iev/detection-pipeline';
import { FrameSummary, MODULE_LOGGER } from '@iev/service-runtime';
import type { Logger } from 'pino';
import { FramesController } from './frames.controller';
import { InferenceMetrics } from './inference.metrics';
import { TextReading } from './text-reading';
import { DETECTIONS_CLIENT, IGNORED_REGIONS, RELEASE_PIXELS, type IgnoredRegionsInForce, type ReleasePixels } from './tokens';

export interface InferenceDependencies {
  detector: TextDetector;
  reading: TextReading;
  detectionsClient: ClientProxy;
  metrics: InferenceMetrics;
  logger: Logger;
  summary: FrameSummary;
  releasePixels: ReleasePixels;
  ignoredRegions: IgnoredRegionsInForce;
}

/** Wires the frames handler to things built (and loaded) before Nest starts: the model load is async. */
@Module({})
export class InferenceModule {
  static forRoot(dependencies: InferenceDependencies): DynamicModule {
    return {
      module: InferenceModule,
      controllers: [FramesController],
      providers: [
        { provide: TextDetector, useValue: dependencies.detector },
        { provide: TextReading, useValue: dependencies.reading },
        { provide: DETECTIONS_CLIENT, useValue: dependencies.detectionsClient },
        { provide: InferenceMetrics, useValue: dependencies.metrics },
        { provide: MODULE_LOGGER, useValue: dependencies.logger },
        { provide: FrameSummary, useValue: dependencies.summary },
        { provide: RELEASE_PIXELS, useValue: dependencies.releasePixels },
        { provide: IGNORED_REGIONS, useValue: dependencies.ignoredRegions },
      ],
    };
  }
}
