import { main } from '@am/messaging';
import { auditService } from './audit.service.js';

main(auditService);
