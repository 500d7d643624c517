import { main } from '@am/messaging';
import { emailService } from './email.service.js';

main(emailService);
