import { z } from 'zod';

/** Query of `GET /emails`: the one address to list, required. */
export const ListEmailsRequest = z.strictObject({ to: z.email().max(254) });
