import { Module } from '@nestjs/common';

/** The inventory use cases arrive with their issues; the service already boots, serves /health and /metrics. */
@Module({})
export class InventoryModule {}
