import {
  BadRequestException,
  Body,
  ConflictException,
  Controller,
  ForbiddenException,
  Get,
  HttpCode,
  Logger,
  NotFoundException,
  Param,
  Post,
} from '@nestjs/common';
import { Access, CurrentCaller, type Caller } from '@am/messaging';
import type { LabOverview, LabRun, SavedLabRunDetail } from '../lab-types.js';
import { Lab, LabBusy, LabRefused, RUN_ID } from './lab.js';

/**
 * The burst lab's routes (operator only; 403 with the reason where the console runs without `LAB_ALLOWED=1` or
 * without the built experiments): start a run, list the saved runs, read one. The run's progress goes over the
 * console's stream (`GET /api/stream`, events `lab`).
 */
@Controller('api/lab')
@Access('operator')
export class LabController {
  private readonly logger = new Logger('burst-lab');

  constructor(private readonly lab: Lab) {}

  /** `GET /api/lab/runs`: the current (or last) run, the saved runs (newest first), the limits and defaults. */
  @Get('runs')
  runs(): LabOverview {
    return this.guard(() => this.lab.overview());
  }

  /**
   * `POST /api/lab/runs` `{requests, durationMs, capacity, maxLength, prefetch}` (each optional, whole numbers within
   * the lab's limits): 202 and the run; 400 for a parameter out of its range, 409 while a run is going.
   */
  @Post('runs')
  @HttpCode(202)
  start(@Body() body: unknown, @CurrentCaller() caller: Caller): LabRun {
    return this.guard(() => {
      const checked = this.lab.check(body);
      if ('problems' in checked) throw new BadRequestException(checked.problems);
      const run = this.lab.start(checked.params, caller.subject);
      this.logger.warn(`burst lab run ${run.id} started by ${caller.subject}: ${JSON.stringify(checked.params)}`);
      return run;
    });
  }

  /** `GET /api/lab/runs/:id`: a saved run, its measured and predicted depth, and its result file. */
  @Get('runs/:id')
  run(@Param('id') id: string): SavedLabRunDetail {
    return this.guard(() => {
      if (!RUN_ID.test(id)) throw new BadRequestException('a run id looks like 20261203-044501-a1b2');
      const run = this.lab.read(id);
      if (!run) throw new NotFoundException(`no saved run ${id}`);
      return run;
    });
  }

  private guard<T>(work: () => T): T {
    try {
      return work();
    } catch (error) {
      if (error instanceof LabRefused)
        throw new ForbiddenException({ statusCode: 403, error: 'forbidden', reason: error.message });
      if (error instanceof LabBusy)
        throw new ConflictException({ statusCode: 409, error: 'conflict', reason: error.message });
      throw error;
    }
  }
}
