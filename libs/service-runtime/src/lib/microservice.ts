import type { DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { CustomTransportStrategy } from '@nestjs/microservices';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { PinoNestLogger } from './logger';
import { startObservabilityServer, type HealthReport } from './observability-server';

export interface MicroserviceOptions {
  module: DynamicModule;
  strategy: CustomTransportStrategy;
  logger: Logger;
  registry: Registry;
  metricsPort: number;
  health: () => HealthReport;
}

/** A NestJS microservice on a custom transport, listening, with its metrics/health server beside it. */
export async function startMicroservice(options: MicroserviceOptions): Promise<{ metricsPort: number; close(): Promise<void> }> {
  const app = await NestFactory.createMicroservice(options.module, { strategy: options.strategy, logger: new PinoNestLogger(options.logger) });
  await app.listen();
  const observability = await startObservabilityServer({ port: options.metricsPort, registry: options.registry, health: options.health });
  return {
    metricsPort: observability.port,
    async close() {
      await app.close();
      await observability.close();
    },
  };
}
