import { Controller, Get, Query } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Access, type Caller, CurrentCaller, parseRequest, requireOwnAddress } from '@am/messaging';
import { listSentEmails, type SentEmail } from '../sent-emails/sent-email.store.js';
import { ListEmailsRequest } from './list-emails.request.js';

/** `GET /emails?to=ADDRESS`: the e-mails sent to that address, from the `sent_emails` log; 400 without `to`. */
@Controller('emails')
export class ListEmailsController {
  constructor(private readonly db: DataSource) {}

  @Get()
  @Access('customer', 'operator')
  async list(@Query() query: unknown, @CurrentCaller() caller: Caller): Promise<SentEmail[]> {
    const { to } = parseRequest(ListEmailsRequest, query);
    requireOwnAddress(caller, to);
    return listSentEmails(this.db.manager, to);
  }
}
