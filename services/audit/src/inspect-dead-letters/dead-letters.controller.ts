import { Controller, Get, NotFoundException, Param, Query, Res, StreamableFile } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Access, parseRequest } from '@am/messaging';
import { DeadLetterIdPipe } from './dead-letter-id.pipe.js';
import { DEAD_LETTER_COLUMNS, toDeadLetterView, type DeadLetterRow, type DeadLetterView } from './dead-letter.view.js';
import { ListDeadLettersRequest } from './list-dead-letters.request.js';

/** Inspect: the stored dead letters, newest first, one at a time, and the exact bytes of one. */
@Controller('dead-letters')
@Access('operator')
export class DeadLettersController {
  constructor(private readonly db: DataSource) {}

  /** `GET /dead-letters[?queue=Q][&source=queue|topic][&group=G][&correlationId=C][&messageId=M][&limit=N][&before=ID]`. */
  @Get()
  async list(@Query() query: unknown): Promise<{ deadLetters: DeadLetterView[]; nextBefore: number | null }> {
    const { queue, source, group, correlationId, messageId, limit, before } = parseRequest(
      ListDeadLettersRequest,
      query,
    );
    const rows = await this.db.query<DeadLetterRow[]>(
      `SELECT ${DEAD_LETTER_COLUMNS} FROM dead_letters
        WHERE ($1::text IS NULL OR queue = $1 OR queue = $1 || '-dlq' OR topic = $1)
          AND ($2::bigint IS NULL OR id < $2)
          AND ($4::text IS NULL OR correlation_id = $4)
          AND ($5::text IS NULL OR source = $5)
          AND ($6::text IS NULL OR consumer_group = $6)
          AND ($7::text IS NULL OR message_id = $7)
        ORDER BY id DESC
        LIMIT $3`,
      [queue ?? null, before ?? null, limit, correlationId ?? null, source ?? null, group ?? null, messageId ?? null],
    );
    const deadLetters = rows.map(toDeadLetterView);
    const last = deadLetters.at(-1);
    return { deadLetters, nextBefore: deadLetters.length === limit && last ? last.id : null };
  }

  /** `GET /dead-letters/:id`. */
  @Get(':id')
  async get(@Param('id', DeadLetterIdPipe) id: string): Promise<DeadLetterView> {
    const [row] = await this.db.query<DeadLetterRow[]>(
      `SELECT ${DEAD_LETTER_COLUMNS} FROM dead_letters WHERE id = $1`,
      [id],
    );
    if (!row) throw new NotFoundException(`dead letter ${id} not found`);
    return toDeadLetterView(row);
  }

  /**
   * `GET /dead-letters/:id/content`: the body byte for byte, whatever its encoding; for a body past the store's limit,
   * its first MAX_STORED_CONTENT_BYTES with `X-Content-Truncated: true`.
   */
  @Get(':id/content')
  async content(
    @Param('id', DeadLetterIdPipe) id: string,
    @Res({ passthrough: true }) response: { setHeader(name: string, value: string): void },
  ): Promise<StreamableFile> {
    const [row] = await this.db.query<{ content: Buffer; content_truncated: boolean }[]>(
      'SELECT content, content_truncated FROM dead_letters WHERE id = $1',
      [id],
    );
    if (!row) throw new NotFoundException(`dead letter ${id} not found`);
    if (row.content_truncated) response.setHeader('X-Content-Truncated', 'true');
    return new StreamableFile(row.content, { type: 'application/octet-stream', length: row.content.length });
  }
}
