import type { DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { CustomTransportStrategy } from '@nestjs/microservices';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { PinoNestLogger } from './logger';
import { startObservabilityServer, type HealthReport, type ObservabilityServer } from './observability-server';

export interface MicroserviceOptions {
  module: DynamicModule;
  strategy: CustomTransportStrategy;
  logger: Logger;
  registry: Registry;
  metricsPort: number;
  health: () => HealthReport;
  /** The metrics/health server, when the module started it before a slow start-up; it then serves `health`. */
  observability?: ObservabilityServer;
}

/** A NestJS microservice on a custom transport, listening, with its metrics/health server beside it. */
export async function startMicroservice(options: MicroserviceOptions): Promise<{ metricsPort: number; close(): Promise<void> }> {
  const app = await NestFactory.createMicroservice(options.module, { strategy: options.strategy, logger: new PinoNestLogger(options.logger) });
  await app.listen();
  const observability = options.observability ?? (await startObservabilityServer({ port: options.metricsPort, registry: options.registry, health: options.health }));
  observability.setHealth(options.health);
  return {
    metricsPort: observability.port,
    async close() {
      await app.close();
      await observability.close();
    },
  };
}
