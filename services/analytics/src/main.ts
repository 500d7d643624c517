import { main } from '@am/messaging';
import { analyticsService } from './analytics.service.js';

main(analyticsService);
