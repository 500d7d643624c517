import { z } from 'zod';

export const RegisterUserRequest = z.strictObject({
  email: z.email().max(254),
  name: z.string().trim().min(1).max(200),
});
