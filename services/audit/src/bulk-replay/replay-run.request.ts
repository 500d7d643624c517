import { z } from 'zod';

/** The most letters one bulk replay takes: a larger group is replayed in several runs, oldest letters first. */
export const MAX_RUN_LETTERS = 1_000;

const DeadLetterId = z.union([z.string(), z.number()]).transform((raw, ctx) => {
  const text = String(raw);
  if (!/^[1-9][0-9]{0,17}$/.test(text)) {
    ctx.addIssue({ code: 'custom', message: `a dead letter id is a positive integer, got "${text.slice(0, 40)}"` });
    return z.NEVER;
  }
  return text;
});

/**
 * `POST /dead-letter-replays`: a selection (`ids`, or a group's waiting letters by its fingerprint `groupId`: exactly
 * one of the two), the rate (`perSecond`, 1 to 200 messages a second), and `dryRun` (what would be sent, nothing sent).
 */
export const StartReplayRunRequest = z
  .strictObject({
    ids: z.array(DeadLetterId).min(1).max(MAX_RUN_LETTERS).optional(),
    groupId: z
      .string()
      .regex(/^[0-9a-f]{12}$/, 'a group id is its fingerprint: 12 hex digits')
      .optional(),
    perSecond: z.number().int().min(1).max(200),
    dryRun: z.boolean().optional(),
  })
  .refine((r) => (r.ids === undefined) !== (r.groupId === undefined), {
    message: 'give either ids or groupId, not both',
  });
export type StartReplayRunRequest = z.infer<typeof StartReplayRunRequest>;
