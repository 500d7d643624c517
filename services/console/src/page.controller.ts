import { Controller, Get, Header, NotFoundException, Param, StreamableFile } from '@nestjs/common';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Access } from '@am/messaging';
import { PAGE_DIR } from './console-config.js';
import { PAGE_HTML } from './page-html.js';
import { PAGE_CSS } from './page-css.js';

/** Nothing but this origin: no script or style from anywhere else, no inline script, no framing. */
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
const MODULE = /^[a-z][a-z0-9-]*\.js$/;

/**
 * The page and its assets, open to everyone: they hold no data (the data routes need an operator token), and the page
 * is where a viewer gives one. Served from this process only: nothing is fetched from elsewhere at run time.
 */
@Controller()
@Access('public')
export class PageController {
  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('content-security-policy', CSP)
  @Header('cache-control', 'no-cache')
  page(): string {
    return PAGE_HTML;
  }

  @Get('assets/console.css')
  @Header('content-type', 'text/css; charset=utf-8')
  css(): string {
    return PAGE_CSS;
  }

  /** The page's ES modules, compiled by `tsc -b` from `src/page`. */
  @Get('assets/:module')
  @Header('content-type', 'text/javascript; charset=utf-8')
  @Header('cache-control', 'no-cache')
  async module(@Param('module') name: string): Promise<StreamableFile> {
    if (!MODULE.test(name)) throw new NotFoundException(`no asset ${name}`);
    const file = await readFile(path.join(PAGE_DIR, name)).catch(() => undefined);
    if (!file) throw new NotFoundException(`no asset ${name}`);
    return new StreamableFile(file);
  }
}
