import { main } from '@am/messaging';
import { paymentsService } from './payments.service.js';

main(paymentsService);
