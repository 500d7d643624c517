import { Controller, Delete, Get, HttpCode, Post, Res } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Access, CurrentCaller, type Caller } from '@am/messaging';
import { SESSION_COOKIE } from './session-cookie.js';

/**
 * `POST /session` with `Authorization: Bearer <operator token>` puts the token in an HttpOnly, SameSite=Strict cookie
 * (scripts cannot read it; other sites' pages cannot send it), so the page's `EventSource` and `fetch` calls carry it.
 * `DELETE /session` removes it. The cookie ends with the browser session, and the token inside with its own expiry.
 */
@Controller('session')
export class SessionController {
  @Post()
  @HttpCode(200)
  @Access('operator')
  open(
    @CurrentCaller() caller: Caller,
    @Res({ passthrough: true }) response: ServerResponse & { req: IncomingMessage },
  ): { role: string; subject: string } {
    const token = /^Bearer +([^ ]+)$/i.exec(response.req.headers.authorization ?? '')?.[1] ?? '';
    response.setHeader('set-cookie', `${SESSION_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`);
    return { role: caller.role, subject: caller.subject };
  }

  /** `GET /session`: who the page is signed in as (401 when it is not: the page then asks for a token). */
  @Get()
  @Access('operator')
  who(@CurrentCaller() caller: Caller): { role: string; subject: string } {
    return { role: caller.role, subject: caller.subject };
  }

  @Delete()
  @HttpCode(204)
  @Access('public')
  close(@Res({ passthrough: true }) response: ServerResponse): void {
    response.setHeader('set-cookie', `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`);
  }
}
