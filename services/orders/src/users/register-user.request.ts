import { z } from 'zod';
import { LocaleSchema } from '@am/contracts';

/**
 * `POST /users`: the contract `{email, name}` of DESIGN.md, plus optional `firstName`, `lastName` and `locale`
 * (since `user.registered` v2). A request gives `name`, or `firstName` (with `lastName` if the person has one).
 */
export const RegisterUserRequest = z
  .strictObject({
    email: z.email().max(254),
    name: z.string().trim().min(1).max(200).optional(),
    firstName: z.string().trim().min(1).max(200).optional(),
    lastName: z.string().trim().max(200).optional(),
    locale: LocaleSchema.optional(),
  })
  .refine((body) => body.name !== undefined || body.firstName !== undefined, {
    message: 'name or firstName is required',
    path: ['name'],
  })
  .refine((body) => body.lastName === undefined || body.firstName !== undefined, {
    message: 'lastName needs firstName',
    path: ['firstName'],
  });
export type RegisterUserRequest = z.output<typeof RegisterUserRequest>;
