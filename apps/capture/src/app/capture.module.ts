import { Module, type DynamicModule } from '@nestjs/common';
import type { ClientZmqOnDemand } from '@iev/zmq-transport';
import type { PreparedSource } from '@iev/capture-sources';
import { MODULE_LOGGER } from '@iev/service-runtime';
import type { Logger } from 'pino';
import { CaptureMetrics } from './capture.metrics';
import { CaptureService } from './capture.service';
import { FAIL_FAST, FRAMES_CLIENT, SOURCE, STALL_SETTING, STALL_TIMEOUT } from './tokens';

@Module({})
export class CaptureModule {
  static forRoot(dependencies: {
    source: PreparedSource;
    failFastBeforeFirstFrame: boolean;
    stallTimeoutMs?: () => number;
    stallSetting?: () => string;
    framesClient: ClientZmqOnDemand;
    metrics: CaptureMetrics;
    logger: Logger;
  }): DynamicModule {
    return {
      module: CaptureModule,
      providers: [
        CaptureService,
        { provide: SOURCE, useValue: dependencies.source },
        { provide: FAIL_FAST, useValue: dependencies.failFastBeforeFirstFrame },
        { provide: STALL_TIMEOUT, useValue: dependencies.stallTimeoutMs },
        { provide: STALL_SETTING, useValue: dependencies.stallSetting },
        { provide: FRAMES_CLIENT, useValue: dependencies.framesClient },
        { provide: CaptureMetrics, useValue: dependencies.metrics },
        { provide: MODULE_LOGGER, useValue: dependencies.logger },
      ],
    };
  }
}
